// The page: tabs, the Live chat, Analyse and stored plans, wired to one shared plan panel.

import * as api from "./api.js";
import { PlanState } from "./plan-state.js";
import { PlanView } from "./plan-view.js";
import { readPlan, readSampling, renderSettings } from "./settings.js";

const $ = (selector) => document.querySelector(selector);
const view = new PlanView($("#plan"));
let served = null; // the server's model name
let running = null; // AbortController of the request in flight

// ---- errors: every failure is shown to the person, never swallowed
function showError(exc) {
  const box = $("#error");
  if (!exc) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.textContent = exc instanceof api.ApiError ? exc.describe() : `error: ${exc.message || exc}`;
  box.hidden = false;
}

async function guarded(button, work) {
  showError(null);
  button.disabled = true;
  try {
    await work();
  } catch (exc) {
    if (exc.name !== "AbortError") showError(exc);
  } finally {
    button.disabled = false;
  }
}

// ---- tabs (arrow keys move between them, as in the WAI-ARIA tabs pattern)
const tabs = [...document.querySelectorAll("[role=tab]")];
function activate(tab, focus) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
  }
  if (focus) tab.focus();
}
for (const tab of tabs) {
  tab.addEventListener("click", () => activate(tab, false));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    activate(tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length], true);
  });
}

// ---- the API key (kept for this browser tab only)
const keyInput = $("#api-key");
keyInput.value = api.apiKey();
keyInput.addEventListener("change", () => {
  api.setApiKey(keyInput.value.trim());
  loadModel();
});

async function loadModel() {
  try {
    const list = await api.models();
    served = list.data.length ? list.data[0].id : null;
    $("#model").textContent = served ? `model: ${served}` : "";
    showError(null);
  } catch (exc) {
    showError(exc);
  }
}

for (const holder of document.querySelectorAll("[data-settings]")) {
  renderSettings(holder, holder.closest("form").id === "live-form" ? "live" : "analyse");
}

// ---- Live: a multi-turn chat; each reply streams with its plan beside it
let history = []; // [{role, content}] of finished turns

function drawConversation() {
  const list = $("#conversation");
  list.replaceChildren(
    ...history.map((m) => {
      const item = document.createElement("li");
      item.className = `turn ${m.role}`;
      item.textContent = m.content;
      item.dataset.role = m.role;
      return item;
    }),
  );
}

$("#live-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const message = form.elements.message.value.trim();
  if (!message) return;
  const system = form.elements.system.value.trim();
  const messages = [...(system ? [{ role: "system", content: system }] : []), ...history, { role: "user", content: message }];
  const body = { model: served || undefined, messages, plan: readPlan(form), ...readSampling(form) };
  const state = new PlanState();
  state.streaming = true;
  running = new AbortController();
  $("#stop").disabled = false;
  guarded($("#send"), async () => {
    view.show(state);
    try {
      for await (const chunk of api.streamChat(body, running.signal)) {
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        if (delta && delta.content && chunk.choices[0].index === 0) state.addText(delta.content);
        if (chunk.plan && chunk.plan.index === 0) state.take(chunk.plan);
        view.update();
      }
      history = [...messages.filter((m) => m.role !== "system"), { role: "assistant", content: state.text }];
      form.elements.message.value = "";
      drawConversation();
    } catch (exc) {
      if (!state.text && !state.snapshots.length) view.show(null); // nothing to look at
      throw exc;
    } finally {
      state.streaming = false;
      $("#stop").disabled = true;
      view.render();
    }
  });
});

$("#stop").addEventListener("click", () => running && running.abort());
$("#new-chat").addEventListener("click", () => {
  history = [];
  drawConversation();
});

// ---- Analyse: the plan along a given reply, without generating
$("#analyse-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const system = form.elements.system.value.trim();
  const body = {
    model: served || undefined,
    messages: [
      ...(system ? [{ role: "system", content: system }] : []),
      { role: "user", content: form.elements.user_message.value },
    ],
    assistant: form.elements.assistant.value,
    plan: readPlan(form),
  };
  const next = form.elements.next_user.value.trim();
  if (next) body.user = next;
  guarded($("#analyse"), async () => {
    const state = new PlanState();
    state.streaming = true; // shows "waiting…" while the server plans
    view.show(state);
    try {
      const answer = await api.analyze(body);
      view.show(PlanState.fromPlan(answer.plan));
    } catch (exc) {
      view.show(null);
      throw exc;
    } finally {
      state.streaming = false;
      view.render();
    }
  });
});

// ---- Stored plans: open by id, list a conversation's, delete
async function openPlan(id) {
  const plan = await api.getPlan(id);
  view.show(PlanState.fromPlan(plan));
  $("#open-form").elements.id.value = id;
  if (plan.conversation) $("#list-form").elements.conversation.value = plan.conversation;
}

$("#open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded($("#open"), () => openPlan(event.target.elements.id.value.trim()));
});

$("#delete").addEventListener("click", () => {
  const id = $("#open-form").elements.id.value.trim();
  if (!id) return;
  guarded($("#delete"), async () => {
    await api.deletePlan(id);
    $("#plan").querySelector("[data-part=status]").textContent = `plan ${id} deleted`;
    if (view.state && view.state.id === id) view.show(null);
    const conversation = $("#list-form").elements.conversation.value.trim();
    if (conversation) await listConversation(conversation);
  });
});

async function listConversation(conversation) {
  const answer = await api.listPlans(conversation);
  const table = $("#plan-list");
  const rows = answer.data.map((plan) => {
    const row = document.createElement("tr");
    const created = plan.created ? new Date(plan.created * 1000).toLocaleString() : "–";
    const text = plan.text.length > 60 ? `${plan.text.slice(0, 59)}…` : plan.text;
    for (const v of [plan.id, created, text, String(plan.snapshots.length)]) {
      const cell = document.createElement("td");
      cell.textContent = v;
      row.append(cell);
    }
    const cell = document.createElement("td");
    const open = document.createElement("button");
    open.textContent = "Open";
    open.addEventListener("click", () => guarded(open, () => openPlan(plan.id)));
    cell.append(open);
    row.append(cell);
    return row;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = false;
  table.dataset.count = String(rows.length);
}

$("#list-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded($("#list"), () => listConversation(event.target.elements.conversation.value.trim()));
});

// Open a plan named in the address (/ui#plan-…): a plan can be shared as a link.
if (location.hash.length > 1) {
  activate($("#tab-stored"), false);
  guarded($("#open"), () => openPlan(decodeURIComponent(location.hash.slice(1))));
}
loadModel();
