// Timelines per horizon, in inline SVG: against the position in the text, the probability
// the plan gave the ending that really came (how early it became visible), the uniform
// baseline, the entropy of the plan, and where the realised units ended.

const SVG = "http://www.w3.org/2000/svg";
const W = 640;
const H = 150;
const PAD = { left: 40, right: 44, top: 12, bottom: 26 };

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function axes(root, x, yP, maxEntropy, length) {
  const [x0, x1] = [PAD.left, W - PAD.right];
  const [y0, y1] = [H - PAD.bottom, PAD.top];
  root.append(svg("rect", { x: x0, y: y1, width: x1 - x0, height: y0 - y1, class: "plot" }));
  for (const p of [0, 0.5, 1]) {
    root.append(svg("line", { x1: x0, x2: x1, y1: yP(p), y2: yP(p), class: "grid" }));
    root.append(svg("text", { x: x0 - 6, y: yP(p) + 4, class: "tick", "text-anchor": "end" }, p.toFixed(1)));
  }
  root.append(svg("text", { x: x1 + 6, y: y1 + 8, class: "tick entropy-tick" }, `${maxEntropy.toFixed(1)}`));
  root.append(svg("text", { x: x1 + 6, y: y0, class: "tick entropy-tick" }, "0 nats"));
  const step = Math.max(1, Math.ceil(length / 8 / 5) * 5);
  for (let t = 0; t <= length - step / 2; t += step) {
    root.append(svg("text", { x: x(t), y: H - 8, class: "tick", "text-anchor": "middle" }, String(t)));
  }
  root.append(svg("text", { x: x1, y: H - 8, class: "tick", "text-anchor": "end" }, "token →"));
}

/** The (position, probability, hit, baseline) points of one horizon's realised endings. */
function points(state, horizon) {
  const scored = state.scores.some((s) => s.horizon === horizon);
  if (horizon === "user" && !scored) {
    const turn = state.plan && state.plan.next_turn;
    return turn ? turn.predictions.map((p) => ({ position: p.position, p: p.probability, hit: p.top1, base: null })) : [];
  }
  return state.scores
    .filter((s) => s.horizon === horizon)
    .map((s) => ({ position: s.position, p: Math.exp(s.log_score), hit: s.top1, base: Math.exp(s.uniform_log_score) }));
}

function chart(state, horizon, selected, onSelect) {
  const length = state.length();
  const x = (t) => PAD.left + ((W - PAD.left - PAD.right) * Math.min(t, length)) / length;
  const yP = (p) => H - PAD.bottom - (H - PAD.top - PAD.bottom) * p;
  const planned = state.snapshots
    .map((s, i) => ({ i, position: s.position, h: s.horizons[horizon] }))
    .filter((s) => s.h);
  const maxEntropy = Math.max(Math.log(2), ...planned.map((s) => s.h.entropy));
  const yE = (e) => yP(e / maxEntropy);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "img" });
  const pts = points(state, horizon);
  root.setAttribute(
    "aria-label",
    `${horizon}: ${pts.length} scored predictions, entropy at ${planned.length} refreshes`,
  );
  axes(root, x, yP, maxEntropy, length);
  for (const end of state.unitEnds(horizon)) {
    root.append(svg("line", { x1: x(end.position), x2: x(end.position), y1: PAD.top, y2: H - PAD.bottom, class: "unit-end" }));
  }
  if (selected >= 0 && selected < state.snapshots.length) {
    const at = x(state.snapshots[selected].position);
    root.append(svg("line", { x1: at, x2: at, y1: PAD.top, y2: H - PAD.bottom, class: "cursor" }));
  }
  if (planned.length) {
    const path = planned
      .map((s, k) => {
        const next = k + 1 < planned.length ? planned[k + 1].position : length;
        return `${k ? "L" : "M"}${x(s.position)},${yE(s.h.entropy)} H${x(next)}`;
      })
      .join(" ");
    root.append(svg("path", { d: path, class: "entropy" }));
  }
  for (const pt of pts) {
    if (pt.base !== null) {
      root.append(svg("line", { x1: x(pt.position) - 4, x2: x(pt.position) + 4, y1: yP(pt.base), y2: yP(pt.base), class: "baseline" }));
    }
    const dot = svg("circle", { cx: x(pt.position), cy: yP(pt.p), r: 4, class: pt.hit ? "hit" : "miss" });
    dot.append(svg("title", {}, `token ${pt.position}: p ${pt.p.toFixed(2)}${pt.hit ? " (top-1)" : ""}`));
    dot.addEventListener("click", () => {
      const i = state.snapshots.findIndex((s) => s.position === pt.position);
      if (i >= 0) onSelect(i, false);
    });
    root.append(dot);
  }
  return root;
}

/** One timeline per planned horizon, with a line of what it shows. */
export function renderTimelines(container, state, selected, onSelect) {
  const figures = state.horizons().map((horizon) => {
    const fig = document.createElement("figure");
    fig.className = "timeline-figure";
    fig.dataset.horizon = horizon;
    const cap = document.createElement("figcaption");
    const what = horizon === "user" ? "probability of the user's real next message" : "probability given to the ending that came (smoothed)";
    cap.textContent = `${horizon}: ● ${what} · — uniform guess · ┄ entropy · │ realised ends`;
    fig.append(cap, chart(state, horizon, selected, onSelect));
    return fig;
  });
  container.replaceChildren(...figures);
}
