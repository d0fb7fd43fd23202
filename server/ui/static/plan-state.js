// One plan as the page knows it: built from stream events as they arrive, or from a whole
// stored plan. Everything the views draw is derived here, so they stay free of bookkeeping.

export const HORIZONS = ["sentence", "paragraph", "turn", "user"];

export class PlanState {
  constructor() {
    this.text = "";
    this.snapshots = []; // sorted by position (stream events may arrive out of order)
    this.scores = [];
    this.forks = [];
    this.plan = null; // the complete plan, once known
    this.id = null;
    this.streaming = false;
  }

  static fromPlan(plan) {
    const state = new PlanState();
    state.finish(plan);
    return state;
  }

  get done() {
    return this.plan !== null;
  }

  addText(delta) {
    this.text += delta;
  }

  addSnapshot(snapshot) {
    const at = this.snapshots.findIndex((s) => s.position >= snapshot.position);
    if (at < 0) this.snapshots.push(snapshot);
    else if (this.snapshots[at].position === snapshot.position) this.snapshots[at] = snapshot;
    else this.snapshots.splice(at, 0, snapshot);
  }

  addScore(score) {
    this.scores.push(score);
  }

  addFork(fork) {
    this.forks.push(fork);
  }

  /** Take one stream chunk's `plan` event; returns whether it was the complete plan. */
  take(event) {
    this.id = event.id;
    if (event.type === "snapshot") this.addSnapshot(event.snapshot);
    else if (event.type === "score") this.addScore(event.score);
    else if (event.type === "fork") this.addFork(event.fork);
    else if (event.type === "plan") {
      this.finish(event);
      return true;
    }
    return false;
  }

  finish(plan) {
    this.plan = plan;
    this.id = plan.id;
    this.text = plan.text || this.text;
    this.snapshots = [...plan.snapshots].sort((a, b) => a.position - b.position);
    this.scores = plan.scores;
    this.forks = plan.forks;
    this.streaming = false;
  }

  /** The horizons planned anywhere in this plan, in their natural order. */
  horizons() {
    const seen = new Set(this.snapshots.flatMap((s) => Object.keys(s.horizons)));
    return HORIZONS.filter((h) => seen.has(h));
  }

  /**
   * The plan of `horizon` standing at snapshot `index`: a snapshot may leave a horizon out
   * (refresh_every), and then the last earlier plan of it stands. Null if none yet.
   */
  horizonAt(index, horizon) {
    for (let i = index; i >= 0; i--) {
      const h = this.snapshots[i].horizons[horizon];
      if (h) return { plan: h, position: this.snapshots[i].position };
    }
    return null;
  }

  /**
   * The text cut at the refresh points: [{start, end, index}], one per snapshot (from its
   * offset to the next one's), plus the text before the first snapshot (index -1) if any.
   */
  segments() {
    const n = this.text.length;
    const offsets = this.snapshots.map((s) => Math.min(s.text_offset, n));
    const out = offsets.length && offsets[0] > 0 ? [{ start: 0, end: offsets[0], index: -1 }] : [];
    if (!offsets.length && n) out.push({ start: 0, end: n, index: -1 });
    offsets.forEach((start, i) => {
      const end = i + 1 < offsets.length ? offsets[i + 1] : n;
      out.push({ start, end: Math.max(start, end), index: i });
    });
    return out;
  }

  scoreFor(position, horizon) {
    return this.scores.find((s) => s.position === position && s.horizon === horizon) || null;
  }

  /** The `user` prediction made at `position`, scored against the real next message. */
  nextTurnAt(position) {
    const turn = this.plan && this.plan.next_turn;
    if (!turn) return null;
    return turn.predictions.find((p) => p.position === position) || null;
  }

  forksAt(position, horizon) {
    return this.forks.filter((f) => f.position === position && (!horizon || f.horizon === horizon));
  }

  /** Character offsets where the realised units of `horizon` end (the text's boundaries). */
  unitEnds(horizon) {
    const units = (this.plan && this.plan.realised && this.plan.realised[horizon]) || [];
    const ends = [];
    let cursor = 0;
    for (const unit of units) {
      const body = unit.text.trim();
      const at = body ? this.text.indexOf(body, cursor) : -1;
      if (at < 0) continue;
      cursor = at + body.length;
      ends.push({ offset: cursor, position: unit.end_position, text: unit.text });
    }
    return ends;
  }

  /** Tokens the text has (for timelines' x axis). */
  length() {
    if (this.plan) return Math.max(this.plan.completion_tokens, 1);
    const last = this.snapshots[this.snapshots.length - 1];
    return Math.max(last ? last.position + 1 : 1, 1);
  }

  /** The shade of snapshot `index` for `measure` on `horizon`, in 0..1 (null: no value). */
  shade(index, measure, horizon) {
    if (index < 0) return null;
    const here = this.horizonAt(index, horizon);
    if (measure === "entropy") {
      if (!here) return null;
      const k = this.plan ? this.plan.config.rollouts : here.plan.reached + here.plan.not_reached;
      return here.plan.entropy / Math.log(Math.max(k, 2));
    }
    if (measure === "novel") {
      return here && typeof here.plan.novel === "number" ? here.plan.novel : null;
    }
    const forks = this.forksAt(this.snapshots[index].position, horizon);
    return forks.length ? Math.min(1, Math.max(...forks.map((f) => f.divergence))) : 0;
  }

  /** Whether any horizon plan carries `novel` (the unseen mass; newer servers only). */
  hasNovel() {
    return this.snapshots.some((s) =>
      Object.values(s.horizons).some((h) => typeof h.novel === "number"),
    );
  }
}
