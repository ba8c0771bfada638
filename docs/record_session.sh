#!/usr/bin/env bash
# Records docs/workflow-session.txt: edit → watch rebuild → diff, on a copy of the bank.
# Run from the repository root after `make build`: bash docs/record_session.sh
set -euo pipefail
set -m  # job control: a background job then receives SIGINT like a terminal Ctrl-C
repo=$(pwd)
exporter="$repo/.venv/bin/exporter"
work=$(mktemp -d)
trap 'kill "$watch_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r "$repo/source" "$work/source"
cd "$work"
out="$repo/docs/workflow-session.txt"
say() { printf '\n$ %s\n' "$*" >> "$out"; }
: > "$out"
echo "# edit → watch rebuild → diff (recorded by docs/record_session.sh)" >> "$out"

say exporter build -t anki
"$exporter" build -t anki >> "$out" 2>&1

say 'exporter watch -t anki &   # output below, interleaved as it happened'
PYTHONUNBUFFERED=1 "$exporter" watch -t anki --debounce 200 > watch.log 2>&1 &
watch_pid=$!
for _ in $(seq 1 100); do grep -q "rebuilt\|up to date\|wrote" watch.log 2>/dev/null && break; sleep 0.1; done

say "sed -i 's/Overfitting is when/Overfitting happens when/' source/questions/basic.yaml"
sed -i 's/Overfitting is when/Overfitting happens when/' source/questions/basic.yaml
for _ in $(seq 1 100); do grep -q 'rebuilt' watch.log && break; sleep 0.1; done

say "sed -i '0,/level: basic/s//level: basik/' source/questions/basic.yaml   # a mistake"
sed -i '0,/level: basic/s//level: basik/' source/questions/basic.yaml
for _ in $(seq 1 100); do grep -q "E008" watch.log && break; sleep 0.1; done
sleep 0.5

say "sed -i 's/level: basik/level: basic/' source/questions/basic.yaml   # fixed"
sed -i 's/level: basik/level: basic/' source/questions/basic.yaml
for _ in $(seq 1 100); do grep -q 'up to date$' <(tail -n 1 watch.log) && break; sleep 0.1; done
kill -INT "$watch_pid"; wait "$watch_pid" || true
echo "--- watch output ---" >> "$out"
cat watch.log >> "$out"

say "git checkout source/questions/basic.yaml   # (here: restore the committed file)"
cp "$repo/source/questions/basic.yaml" source/questions/basic.yaml
cp "$repo/source/deck.lock" source/deck.lock
sed -i 's/Overfitting is when/Overfitting happens when/' source/questions/basic.yaml
sed -i '0,/- id: perceptron$/s//- id: perceptron\n  retired: true/' source/questions/basic.yaml

say exporter diff
"$exporter" diff >> "$out" 2>&1 || true
echo "recorded $out"
