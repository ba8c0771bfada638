// The measurements of tests/test_cards_browser.py, run in the preview page (WebDriver
// executeScript: the body of a function; it returns what it found).
const MIN_TEXT = 4.5, MIN_EDGE = 3.0;
function rgba(s) {
  const m = s.match(/rgba?\(([^)]+)\)/);
  if (!m) return [0, 0, 0, 0];
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(top, under) {  // composite a colour over an opaque one
  const a = top[3];
  return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
}
function lum(c) {
  const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
}
function ratio(a, b) {
  const x = lum(a), y = lum(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}
function backdrop(el) {  // the opaque colour behind an element's content
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  let colour = [255, 255, 255, 1];
  for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
  return colour;
}
function label(el) {
  const face = el.closest(".pv-face"), item = el.closest(".pv-item");
  return (item ? item.dataset.id : "?") + " " + (face ? face.dataset.side + "/" + face.dataset.mode : "")
    + " <" + el.tagName.toLowerCase()
    + (typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : "") + ">";
}
function scrolls(e) {
  const s = getComputedStyle(e);
  return ["auto", "scroll", "hidden"].includes(s.overflowX);
}
const out = {overflow: [], cue: [], math: [], contrast: [], edges: [], words: [], counts: {}};
const cards = Array.from(document.querySelectorAll(".pv-face > .card"));
out.counts.cards = cards.length;
out.counts.page_scrolls_sideways = document.documentElement.scrollWidth > window.innerWidth + 1;
let texts = 0, tokens = 0, cells = 0, boxes = 0;
for (const card of cards) {
  const box = card.getBoundingClientRect();
  for (const el of card.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.closest("mjx-assistive-mml")) continue;  // visually hidden MathML for screen readers
    // 1. nothing wider than its card unless a scroll box (inside the card) holds it
    if (r.right > box.right + 0.5 || r.left < box.left - 0.5) {
      let held = false;
      for (let a = el.parentElement; a && a !== card; a = a.parentElement) {
        if (scrolls(a)) {
          const ar = a.getBoundingClientRect();
          held = ar.right <= box.right + 0.5 && ar.left >= box.left - 0.5;
          break;
        }
      }
      if (!held) out.overflow.push(label(el) + " spans " + Math.round(r.left - box.left) + ".." + Math.round(r.right - box.left) + " of " + Math.round(box.width));
    }
    // a box that does scroll shows a cue (its edge shadows are background gradients)
    if (scrolls(el) && el.scrollWidth > el.clientWidth + 1) {
      boxes++;
      if (!getComputedStyle(el).backgroundImage.includes("gradient")) out.cue.push(label(el));
    }
    // 3. text and code tokens against what is behind them
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    const banner = el.matches(".qa-retired");  // its words are CSS generated content
    if ((own || banner) && style.visibility !== "hidden" && !el.closest("mjx-container")) {
      texts++;
      if (el.closest(".highlight")) tokens++;
      const under = backdrop(el);
      const fg = over(rgba(style.color), under);
      const k = ratio(fg, under);
      if (k < MIN_TEXT) out.contrast.push(label(el) + " " + k.toFixed(2) + ":1 " + style.color);
    }
    // block edges: code blocks, table cells, the retired banner
    if (el.matches("pre, th, td, .qa-retired")) {
      const under = backdrop(el.parentElement);
      const edge = over(rgba(style.borderTopColor), under);
      const k = ratio(edge, under);
      if (k < MIN_EDGE) out.edges.push(label(el) + " edge " + k.toFixed(2) + ":1");
    }
    // 4. words inside table cells stay on one line
    if (el.matches("th, td")) {
      cells++;
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement.closest("mjx-container")) continue;
        const re = /[^\s\-\u2010-\u2014\/]+/g;
        let m;
        while ((m = re.exec(n.textContent))) {
          const range = document.createRange();
          range.setStart(n, m.index); range.setEnd(n, m.index + m[0].length);
          const tops = new Set(Array.from(range.getClientRects()).filter(q => q.width > 0).map(q => Math.round(q.top)));
          if (tops.size > 1) out.words.push(label(el) + " '" + m[0] + "'");
        }
      }
    }
  }
}
// 2. every formula typeset
for (const e of document.querySelectorAll(".pv-face .math")) {
  if (!e.querySelector("mjx-container")) out.math.push(label(e) + " not typeset: " + e.textContent.slice(0, 40));
}
for (const e of document.querySelectorAll(".pv-face mjx-merror, .pv-face [data-mjx-error]")) {
  out.math.push(label(e) + " MathJax error: " + (e.getAttribute("data-mjx-error") || e.textContent).slice(0, 60));
}
out.counts.formulas = document.querySelectorAll(".pv-face mjx-container").length;
out.counts.texts = texts; out.counts.tokens = tokens; out.counts.cells = cells;
out.counts.scroll_boxes = boxes;
out.counts.card_width = cards.length ? Math.round(cards[0].getBoundingClientRect().width) : 0;
return out;
