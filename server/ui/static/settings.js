// The plan settings form (the `plan` object of a request), shared by Live and Analyse.
// Fields left empty are left out, so the server's defaults apply; the server checks the
// values and its error, naming the field, is shown to the person.

import { HORIZONS } from "./plan-state.js";

const DEFAULT_HORIZONS = { live: ["sentence", "turn", "user"], analyse: ["sentence", "turn", "user"] };

/** Fill `holder` with the plan settings fields; `kind` picks the default horizons. */
export function renderSettings(holder, kind) {
  const checked = DEFAULT_HORIZONS[kind];
  const boxes = HORIZONS.map(
    (h) =>
      `<label class="check"><input type="checkbox" name="horizon" value="${h}"${checked.includes(h) ? " checked" : ""}> ${h}</label>`,
  ).join("");
  holder.innerHTML = `
    <fieldset>
      <legend>Plan</legend>
      <div class="row" role="group" aria-label="horizons">${boxes}</div>
      <div class="row">
        <label>rollouts <input name="rollouts" type="number" value="4"></label>
        <label>refresh <input name="refresh" value="sentence" list="refresh-kinds" size="8"></label>
        <label>lookahead <input name="max_lookahead_tokens" type="number" placeholder="64"></label>
      </div>
      <div class="row">
        <label>clustering <select name="clustering">
          <option value="">server default</option>
          <option value="embedding">embedding (meaning)</option>
          <option value="text">text (exact)</option>
        </select></label>
        <label>fork threshold <input name="fork_threshold" type="number" step="0.05" placeholder="0.5"></label>
        <label>plan id <input name="id" placeholder="generated" size="10"></label>
      </div>
      <datalist id="refresh-kinds"><option value="sentence"><option value="token"><option value="8"></datalist>
    </fieldset>`;
}

function number(form, name) {
  const raw = form.elements[name] && form.elements[name].value.trim();
  return raw ? Number(raw) : undefined;
}

/** The `plan` object from `form`'s settings (only the fields the person filled in). */
export function readPlan(form) {
  const plan = {
    horizons: [...form.querySelectorAll("input[name=horizon]:checked")].map((b) => b.value),
  };
  const rollouts = number(form, "rollouts");
  if (rollouts !== undefined) plan.rollouts = rollouts;
  const refresh = form.elements.refresh.value.trim();
  if (refresh) plan.refresh = /^\d+$/.test(refresh) ? Number(refresh) : refresh;
  const lookahead = number(form, "max_lookahead_tokens");
  if (lookahead !== undefined) plan.max_lookahead_tokens = lookahead;
  if (form.elements.clustering.value) plan.clustering = form.elements.clustering.value;
  const threshold = number(form, "fork_threshold");
  if (threshold !== undefined) plan.fork_threshold = threshold;
  const id = form.elements.id.value.trim();
  if (id) plan.id = id;
  return plan;
}

/** The sampling fields of the Live form (empty ones left out). */
export function readSampling(form) {
  const out = {};
  for (const name of ["max_tokens", "temperature", "seed"]) {
    const v = number(form, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}
