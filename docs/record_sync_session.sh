#!/usr/bin/env bash
# Records docs/sync-session.txt: dry run → sync → study → edit → sync, on a copy of the bank
# and a fresh collection in a throw-away Anki data folder (ANKI_BASE), with Anki's backend.
# Run from the repository root after `make build`: bash docs/record_sync_session.sh
set -euo pipefail
repo=$(pwd)
bin="$repo/.venv/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$repo/source" "$work/source"
cd "$work"
export ANKI_BASE=Anki2 PATH="$bin:$PATH"
out="$repo/docs/sync-session.txt"
say() { printf '\n$ %s\n' "$*" >> "$out"; }
run() { say "$*"; bash -c "$*" >> "$out" 2>&1 || true; }
: > "$out"
echo "# dry run → sync → study → edit → sync (recorded by docs/record_sync_session.sh)" >> "$out"
echo "# ANKI_BASE=Anki2: a fresh profile 'User 1' with an empty collection, Anki closed." >> "$out"
python - <<'PY'
from anki.collection import Collection
import os
os.makedirs("Anki2/User 1")
col = Collection("Anki2/User 1/collection.anki2")
col.db.execute("update col set ls = scm")  # as if just synced with AnkiWeb
col.close()
PY
exporter build -t anki -q
cat > study.py <<'PY'
"""Stands for a study session in Anki: 12 cards answered 'Good' through Anki's scheduler,
one note marked, one answer rewritten, one card moved to a deck of the learner's own."""
from anki.collection import Collection
col = Collection("Anki2/User 1/collection.anki2")
for cid in col.find_cards('"deck:Deep Learning Interview Questions::Basic"')[:12]:
    card = col.get_card(cid); card.start_timer(); col.sched.answerCard(card, 3)
note = col.get_note(col.find_notes('"Id:autoencoder"')[0]); note.tags.append("marked"); col.update_note(note)
note = col.get_note(col.find_notes('"Id:overfitting"')[0])
note["Answer"] = "<p>Overfitting: great on training data, poor on new data (my words).</p>"
col.update_note(note)
col.set_deck([col.find_cards('"Id:backpropagation"')[0]], col.decks.id("My hard ones"))
rows = col.db.all("select id, ivl, due, reps from cards where reps > 0 order by id")
open("studied.txt", "w").write(repr(rows))
print(f"studied {len(rows)} cards, {col.db.scalar('select count() from revlog')} reviews logged;",
      "marked autoencoder, rewrote overfitting's answer, moved backpropagation to 'My hard ones'")
col.close()
PY
cat > check.py <<'PY'
"""What the learner sees in Anki after the sync."""
from anki.collection import Collection
col = Collection("Anki2/User 1/collection.anki2")
rows = col.db.all("select id, ivl, due, reps from cards where reps > 0 order by id")
same = repr(rows) == open("studied.txt").read()
print(f"{len(rows)} studied cards, scheduling {'unchanged' if same else 'CHANGED'};",
      f"{col.db.scalar('select count() from revlog')} reviews logged")
for qid in ("autoencoder", "overfitting", "backpropagation", "activation-functions", "perceptron"):
    note = col.get_note(col.find_notes(f'"Id:{qid}"')[0])
    card = note.cards()[0]
    state = "suspended" if card.queue == -1 else "in study"
    print(f"  {qid}: deck {col.decks.name(card.did)!r}, {state}, tags {' '.join(note.tags)}")
report, ok = col.fix_integrity()
print("Check Database:", "nothing to fix" if ok else report, "| full sync to AnkiWeb needed:", bool(col.schema_changed()))
col.close()
PY

run "exporter sync --dry-run | tail -n 3"
run "exporter sync | tail -n 2"
run "python study.py"
run "sed -i 's/Overfitting is when/Overfitting happens when/' source/questions/basic.yaml"
run "sed -i '/- id: activation-functions/,/level:/s/level: basic/level: intermediate/' source/questions/basic.yaml"
run "sed -i '/- id: backpropagation/,/level:/s/level: basic/level: intermediate/' source/questions/basic.yaml"
run "sed -i 's/^- id: perceptron$/- id: perceptron\n  retired: true/' source/questions/basic.yaml"
run "exporter sync --dry-run"
run "exporter sync"
run "python check.py"
run "exporter sync"
echo "recorded $out"
