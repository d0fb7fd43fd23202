"""HTTP routes for plans as resources (thin: parse, delegate, return)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from planner import PlanResult
from server.dependencies import cancel_on_disconnect, engine_of, planner_of, server_config, tenant
from server.limits import check_messages, check_text
from server.plans.protocol import AnalyzeRequest, AnalyzeResponse, Deleted, PlanList
from server.request_context import check_model
from server.sampling import analysis_sampling

router = APIRouter()


@router.get("/v1/plans/{plan_id}")
async def get_plan(plan_id: str, raw: Request) -> PlanResult:
    return await planner_of(raw).get(plan_id, tenant=tenant(raw))


@router.get("/v1/plans")
async def list_plans(
    raw: Request,
    conversation: str = Query(..., min_length=1, max_length=200),
    limit: int = Query(20, ge=1, le=100),
) -> PlanList:
    return PlanList(data=await planner_of(raw).list(conversation, limit, tenant=tenant(raw)))


@router.delete("/v1/plans/{plan_id}")
async def delete_plan(plan_id: str, raw: Request) -> Deleted:
    await planner_of(raw).delete(plan_id, tenant=tenant(raw))
    return Deleted(id=plan_id, deleted=True)


@router.post("/v1/plans/analyze")
@cancel_on_disconnect
async def analyze(body: AnalyzeRequest, raw: Request) -> AnalyzeResponse:
    config = server_config(raw)
    check_messages([m.text() for m in body.messages], config)
    check_text(body.assistant, config, "assistant")
    check_text(body.user, config, "user")
    engine = engine_of(raw)
    model = check_model(engine, body.model)
    messages = [{"role": m.role, "content": m.text()} for m in body.messages]
    plan = await planner_of(raw).analyze(
        engine,
        messages,
        body.assistant,
        body.user,
        body.plan,
        analysis_sampling(body),
        model,
        tenant=tenant(raw),
    )
    return AnalyzeResponse(plan=plan)
