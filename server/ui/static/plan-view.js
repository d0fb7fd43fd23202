// The plan panel every view shares: status, the text as a map, the selected snapshot,
// timelines, the scores per horizon and the previous turn's prediction of the user.

import { legendText, renderMap } from "./plan-map.js";
import { endingLabel, renderSnapshot } from "./snapshot-view.js";
import { renderTimelines } from "./timeline.js";

const fmt = (x, d = 2) => (x === null || x === undefined ? "–" : (x + 0).toFixed(d));

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class PlanView {
  /** `root` holds the elements with the data-part attributes of index.html's plan panel. */
  constructor(root) {
    this.root = root;
    this.part = (name) => root.querySelector(`[data-part=${name}]`);
    this.state = null;
    this.selected = -1;
    this.follow = true; // keep the newest snapshot selected until the person picks one
    this.frame = 0;
    this.part("measure").addEventListener("change", () => this.render());
    this.part("horizon").addEventListener("change", () => this.render());
  }

  /** Show `state` (null: hide the panel). */
  show(state) {
    this.state = state;
    this.selected = state && state.snapshots.length ? 0 : -1;
    this.follow = Boolean(state && state.streaming);
    this.render();
  }

  /** Re-draw at the next frame (stream events come faster than a person can see). */
  update() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  select(index, focus) {
    this.selected = index;
    this.follow = false;
    this.render(focus);
  }

  render(focus = false) {
    const state = this.state;
    this.root.hidden = !state;
    if (!state) return;
    if (this.follow && state.snapshots.length) this.selected = state.snapshots.length - 1;
    this.selected = Math.min(this.selected, state.snapshots.length - 1);
    this.root.dataset.state = state.streaming ? "streaming" : state.done ? "done" : "idle";
    this.root.dataset.snapshots = String(state.snapshots.length);
    this.root.dataset.planId = state.id || "";
    this.status();
    this.controls();
    const onSelect = (i, f) => this.select(i, f);
    const measure = this.part("measure").value;
    const horizon = this.part("horizon").value;
    const current = renderMap(this.part("map"), state, { measure, horizon, selected: this.selected, onSelect });
    if (focus && current) current.focus();
    this.part("legend").textContent = legendText(measure);
    renderSnapshot(this.part("snapshot"), state, this.selected);
    renderTimelines(this.part("timelines"), state, this.selected, onSelect);
    this.comparison();
    this.previousTurn();
  }

  status() {
    const s = this.state;
    const p = s.plan;
    const bits = [s.id ? `plan ${s.id}` : "plan", `${s.snapshots.length} snapshots`, `${s.forks.length} forks`];
    if (s.streaming) bits.push("streaming…");
    if (p) {
      bits.push(`${p.completion_tokens} tokens`, p.stored ? "stored" : `not stored: ${p.store_error || "?"}`);
      if (p.cancelled) bits.push("cancelled at shutdown");
      else if (!p.finished) bits.push("still running");
      if (p.conversation) bits.push(`conversation ${p.conversation}`);
    }
    this.part("status").textContent = bits.join(" · ");
  }

  controls() {
    const select = this.part("horizon");
    const horizons = this.state.horizons();
    const keep = select.value;
    if ([...select.options].map((o) => o.value).join() !== horizons.join()) {
      select.replaceChildren(...horizons.map((h) => new Option(h, h)));
      if (horizons.includes(keep)) select.value = keep;
    }
    const novel = this.part("measure").querySelector("option[value=novel]");
    novel.disabled = !this.state.hasNovel();
    novel.textContent = novel.disabled ? "unseen mass (not in this plan)" : "unseen mass";
  }

  comparison() {
    const p = this.state.plan;
    const box = this.part("comparison");
    if (!p || !Object.keys(p.comparison).length) {
      box.replaceChildren();
      return;
    }
    const table = el("table", "comparison");
    const head = el("tr");
    for (const h of ["horizon", "n", "log score", "uniform", "top-1", "in candidates", "Brier", "tokens MAE"]) {
      head.append(el("th", null, h));
    }
    table.append(el("caption", null, "How the plan scored against what the text really did"), head);
    for (const [h, c] of Object.entries(p.comparison)) {
      const row = el("tr");
      for (const v of [h, c.n, fmt(c.log_score), fmt(c.uniform_log_score), fmt(c.top1_accuracy), fmt(c.in_candidates_rate), fmt(c.brier), fmt(c.tokens_to_end_mae, 1)]) {
        row.append(el("td", null, String(v)));
      }
      table.append(row);
    }
    box.replaceChildren(table);
  }

  previousTurn() {
    const box = this.part("previous");
    const turn = this.state.plan && this.state.plan.previous_turn;
    if (!turn) {
      box.replaceChildren();
      return;
    }
    const head = el("h3", null, "The previous reply's plan, against what you wrote");
    const you = el("p", null);
    you.append(el("strong", null, "you wrote: "), el("q", null, turn.user));
    const parts = [head, you];
    const last = turn.predictions[turn.predictions.length - 1];
    if (last) {
      parts.push(
        el(
          "p",
          null,
          `at the reply's end the plan gave your message p ${fmt(last.probability)} ` +
            `(log score ${fmt(last.log_score)}, top-1 ${last.top1 ? "✓" : "✗"}); ` +
            `closest candidate: ${last.best_match === null ? "none" : endingLabel(last.best_match, "user").text}`,
        ),
      );
    } else {
      parts.push(el("p", "hint", "the previous plan had no 'user' predictions to score"));
    }
    if (turn.model_logprob !== null) {
      parts.push(el("p", null, `the model's own log-probability of your message: ${fmt(turn.model_logprob, 1)} over ${turn.model_tokens} tokens`));
    }
    box.replaceChildren(...parts);
  }
}
