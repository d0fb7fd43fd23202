// One snapshot, per horizon: the candidate endings as bars (probability, rollouts), carried
// vs fresh rollouts, tokens to the end, and — once known — what really happened and its score.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const fmt = (x, digits = 2) => (x === null || x === undefined ? "–" : (x + 0).toFixed(digits));

/** What an empty candidate means: the unit ends right here (for `user`: an empty message). */
export function endingLabel(text, horizon) {
  if (text.trim()) return { text, ends: false };
  if (horizon === "user") return { text: "(an empty message)", ends: true };
  return { text: "⏎ the reply ends here", ends: true };
}

function candidates(plan, horizon) {
  const list = el("ol", "candidates");
  list.setAttribute("aria-label", `${horizon} candidate endings`);
  for (const c of plan.candidates) {
    const item = el("li", "candidate");
    const bar = el("span", "bar");
    bar.style.setProperty("--p", String(c.probability));
    bar.setAttribute("aria-hidden", "true");
    const label = endingLabel(c.text, horizon);
    const text = el("span", label.ends ? "cand-text ends" : "cand-text", label.text);
    item.append(
      bar,
      el("span", "cand-p", c.probability.toFixed(2)),
      el("span", "cand-n", `×${c.count}`),
      text,
    );
    item.dataset.text = c.text;
    item.dataset.probability = String(c.probability);
    item.dataset.count = String(c.count);
    list.append(item);
  }
  if (!plan.candidates.length) {
    list.append(el("li", "hint", "no rollout reached this ending within the lookahead"));
  }
  return list;
}

function facts(plan) {
  const t = plan.tokens_to_end;
  const span = t.mean === null ? "not reached" : `~${fmt(t.mean, 1)} (p10–p90 ${fmt(t.p10, 0)}–${fmt(t.p90, 0)})`;
  const items = [
    ["entropy", `${fmt(plan.entropy)} nats`],
    ["tokens to end", span],
    ["rollouts", `${plan.fresh_rollouts} fresh · ${plan.carried_rollouts} carried`],
    ["reached", `${plan.reached} of ${plan.reached + plan.not_reached}`],
  ];
  if (typeof plan.novel === "number") items.push(["unseen mass", fmt(plan.novel)]);
  const dl = el("dl", "facts");
  for (const [k, v] of items) dl.append(el("dt", null, k), el("dd", null, v));
  return dl;
}

function outcome(state, horizon, position) {
  const box = el("div", "outcome");
  const s = state.scoreFor(position, horizon); // `user` too, when Analyse was given the reply
  if (horizon === "user" && !s) {
    const p = state.nextTurnAt(position);
    if (p) {
      box.append(
        el("strong", null, "what the user really wrote: "),
        el("q", null, state.plan.next_turn.user),
        el("span", "score", ` · p ${fmt(p.probability)} · log score ${fmt(p.log_score)} · top-1 ${p.top1 ? "✓" : "✗"}`),
      );
    } else {
      box.classList.add("pending");
      box.textContent = "not yet known: scored when the conversation's next user message is sent";
    }
    return box;
  }
  if (!s) {
    box.classList.add("pending");
    box.textContent = state.done
      ? "never scored: the ending lay beyond the lookahead or after the text stopped"
      : "not yet known: the text has not reached this ending yet";
    return box;
  }
  const realised = endingLabel(s.realised, horizon);
  const p = Math.exp(s.log_score);
  box.append(
    el("strong", null, "what happened: "),
    el("q", realised.ends ? "ends" : null, realised.text),
    el("span", null, ` after ${s.realised_tokens} tokens`),
    el(
      "div",
      "score",
      `top-1 ${s.top1 ? "✓" : "✗"} · in candidates ${s.in_candidates ? "✓" : "✗"} · p ≈ ${fmt(p)} ` +
        `(smoothed; uniform ${fmt(Math.exp(s.uniform_log_score))}) · log score ${fmt(s.log_score)} · ` +
        `Brier ${fmt(s.brier)}`,
    ),
  );
  return box;
}

/** Draw snapshot `index` of `state` into `container` (a hint if there is none yet). */
export function renderSnapshot(container, state, index) {
  if (index < 0 || index >= state.snapshots.length) {
    container.replaceChildren(el("p", "hint", state.streaming ? "waiting for the first snapshot…" : "no snapshot selected"));
    return;
  }
  const snap = state.snapshots[index];
  const head = el("h3", null, `Snapshot at token ${snap.position}`);
  const sub = el(
    "p",
    "sub",
    `${snap.trigger}${snap.preceding_token !== null ? ` · after ${JSON.stringify(snap.preceding_token)}` : ""} · ` +
      `${index + 1} of ${state.snapshots.length} · ready ${fmt(snap.latency_seconds, 2)} s after the refresh point`,
  );
  const parts = [head, sub];
  for (const horizon of state.horizons()) {
    const here = state.horizonAt(index, horizon);
    const section = el("section", "horizon");
    section.dataset.horizon = horizon;
    const title = el("h4", null, horizon);
    if (here && here.position !== snap.position) {
      title.append(el("span", "sub", ` · planned at token ${here.position}, stands here`));
    }
    section.append(title);
    if (!here) {
      section.append(el("p", "hint", "not planned yet"));
    } else {
      const forks = state.forksAt(here.position, horizon);
      for (const f of forks) {
        section.append(el("p", "fork-note", `⋔ fork: ${fmt(f.divergence)} bits from the previous plan, after ${JSON.stringify(f.token)}`));
      }
      section.append(candidates(here.plan, horizon), facts(here.plan), outcome(state, horizon, here.position));
    }
    parts.push(section);
  }
  container.replaceChildren(...parts);
}
