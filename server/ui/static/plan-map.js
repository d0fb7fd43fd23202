// The text as a map: each stretch from one refresh to the next, shaded by what the plan
// was at its start; sentence (│) and paragraph (¶) ends marked; forks flagged (⋔) with
// the token emitted just before them. One tab stop; arrow keys move between refreshes.

const TINTS = { entropy: [214, 96, 26], fork: [142, 68, 173], novel: [20, 140, 140] };
const UNITS = "nats"; // entropy is reported in nats

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function describe(state, index, measure, horizon) {
  if (index < 0) return "before the first refresh: no plan yet";
  const snap = state.snapshots[index];
  const here = state.horizonAt(index, horizon);
  const parts = [`refresh at token ${snap.position} (${snap.trigger})`];
  if (here) parts.push(`${horizon} entropy ${here.plan.entropy.toFixed(2)} ${UNITS}`);
  if (here && typeof here.plan.novel === "number") {
    parts.push(`unseen mass ${here.plan.novel.toFixed(2)}`);
  }
  for (const f of state.forksAt(snap.position)) {
    parts.push(`fork in ${f.horizon}: ${f.divergence.toFixed(2)} bits after ${JSON.stringify(f.token)}`);
  }
  return parts.join(" · ");
}

/** Cut points inside the text: where to put boundary marks and fork tokens. */
function marks(state) {
  const at = new Map(); // offset -> {sentence, paragraph}
  for (const kind of ["sentence", "paragraph"]) {
    for (const end of state.unitEnds(kind)) {
      at.set(end.offset, { ...(at.get(end.offset) || {}), [kind]: true });
    }
  }
  const forkTokens = []; // [start, end, title]
  const seen = new Set();
  for (const f of state.forks) {
    const snap = state.snapshots.find((s) => s.position === f.position);
    if (!snap || !f.token || seen.has(f.position)) continue;
    seen.add(f.position);
    const end = snap.text_offset;
    const start = end - f.token.length;
    if (start >= 0 && state.text.slice(start, end) === f.token) forkTokens.push([start, end]);
  }
  return { at, forkTokens };
}

function fill(span, state, start, end, cuts) {
  const points = [start, end];
  for (const off of cuts.at.keys()) if (off > start && off <= end) points.push(off);
  for (const [s, e] of cuts.forkTokens) {
    if (s > start && s < end) points.push(s);
    if (e > start && e < end) points.push(e);
  }
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [a, b] = [sorted[i], sorted[i + 1]];
    const isFork = cuts.forkTokens.some(([s, e]) => a >= s && b <= e);
    span.append(isFork ? el("span", "fork-token", state.text.slice(a, b)) : state.text.slice(a, b));
    const mark = cuts.at.get(b);
    if (mark && mark.paragraph) span.append(el("span", "mark-paragraph", "¶"));
    else if (mark && mark.sentence) span.append(el("span", "mark-sentence", "│"));
  }
}

/**
 * Draw `state` into `container`; `view` = {measure, horizon, selected, onSelect}.
 * Returns the element of the selected stretch (null if nothing is selectable).
 */
export function renderMap(container, state, view) {
  const { measure, horizon, selected, onSelect } = view;
  const tint = TINTS[measure] || TINTS.entropy;
  const cuts = marks(state);
  const body = el("div", "map-text");
  let current = null;
  for (const seg of state.segments()) {
    const span = el("span", "seg");
    span.dataset.index = String(seg.index);
    const value = state.shade(seg.index, measure, horizon);
    if (value === null) span.classList.add("unshaded");
    else span.style.backgroundColor = `rgba(${tint.join(",")},${(0.06 + 0.64 * value).toFixed(3)})`;
    if (seg.index >= 0) {
      const snap = state.snapshots[seg.index];
      span.dataset.position = String(snap.position);
      span.setAttribute("role", "button");
      span.tabIndex = -1;
      span.title = describe(state, seg.index, measure, horizon);
      span.setAttribute("aria-pressed", String(seg.index === selected));
      if (state.forksAt(snap.position).length) span.append(el("span", "fork-flag", "⋔"));
      span.addEventListener("click", () => onSelect(seg.index, true));
      if (seg.index === selected) {
        span.classList.add("selected");
        current = span;
      }
    }
    if (seg.end > seg.start) fill(span, state, seg.start, seg.end, cuts);
    else if (seg.index >= 0) span.append(el("span", "empty-seg", "▸"));
    body.append(span);
  }
  if (!state.text && !state.snapshots.length) body.append(el("span", "hint", "(no text yet)"));
  const first = current || body.querySelector(".seg[role=button]");
  if (first) first.tabIndex = 0;
  body.addEventListener("keydown", (event) => {
    const n = state.snapshots.length;
    if (!n) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    let next = null;
    if (step) next = Math.min(n - 1, Math.max(0, (selected < 0 ? 0 : selected + step)));
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = n - 1;
    else if (event.key === "Enter" || event.key === " ") next = Number(event.target.dataset.index);
    if (next === null || Number.isNaN(next)) return;
    event.preventDefault();
    onSelect(next, true);
  });
  container.replaceChildren(body);
  return current;
}

/** A small legend: what the shade means and its scale. */
export function legendText(measure) {
  if (measure === "fork") return "shade: Jensen–Shannon divergence from the previous refresh, 0 → 1 bit";
  if (measure === "novel") return "shade: unseen mass (the plan's estimate of endings no rollout sampled), 0 → 1";
  return `shade: entropy over the candidate endings, 0 → ln K ${UNITS} (K rollouts)`;
}
