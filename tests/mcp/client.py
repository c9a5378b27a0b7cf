"""An agent's view of nivesh-ml's MCP server, through the official MCP Python SDK (`mcp`).

    client.py http URL [API_KEY]          streamable HTTP at URL (…/mcp)
    client.py stdio BINARY DIR            `BINARY mcp` started in DIR (data in DIR/store)

Initialises a session, lists the tools and resources, calls every tool with good arguments,
calls tools with bad ones (a tool error, not a protocol crash), asks for an unknown tool (a
protocol error, after which the session still works), and reads a model card. Prints one line
per check; exits non-zero on the first failure. Driven by crates/nivesh-ml/tests/server.rs.
"""

import asyncio
import datetime
import json
import os
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

TOOLS = [
    "classify_intent",
    "extract_entities",
    "forecast_spending",
    "score_transaction",
    "assess_credit_risk",
    "get_user_features",
    "list_models",
]

APPLICANT = {
    "age": 35, "monthly_income": 80000, "monthly_debt": 20000, "credit_limit": 200000,
    "credit_used": 50000, "loan_amount": 500000, "payments_missed": 1, "total_payments": 48,
    "months_employed": 60, "credit_history_months": 84, "num_credit_accounts": 4,
    "has_mortgage": False, "has_car_loan": True, "employment_type": "salaried", "education": "graduate",
}

NOW = datetime.datetime.now(datetime.timezone.utc).isoformat()

GOOD = {
    "classify_intent": ({"query": "How much did I spend on Swiggy last month?"}, ["intent", "confidence", "prediction_id", "model_version"]),
    "extract_entities": ({"text": "Paid 5k to Zomato yesterday", "reference_date": "2026-03-15"}, ["entities", "prediction_id"]),
    "forecast_spending": ({"user_id": "U0001", "months": 3}, ["forecast", "model_used", "prediction_id"]),
    "score_transaction": ({"user_id": "U0001", "transaction": {"timestamp": NOW, "amount": 250000, "category": "shopping", "channel": "card"}},
                          ["is_anomaly", "anomaly_score", "threshold", "history_source", "prediction_id"]),
    "assess_credit_risk": ({"applicant_data": APPLICANT}, ["default_probability", "credit_score", "reason_codes", "prediction_id"]),
    "get_user_features": ({"user_id": "U0001"}, ["entity", "views"]),
    "list_models": ({}, ["models"]),
}

# (tool, arguments, the field the error must name or None)
BAD = [
    ("assess_credit_risk", {"applicant_data": {**APPLICANT, "age": 7}}, "applicant_data.age"),
    ("forecast_spending", {"user_id": "U0001", "months": 99}, "months"),
    ("classify_intent", {"question": "wrong argument name"}, None),
    ("extract_entities", {}, None),
]


def check(ok, what, detail=""):
    if not ok:
        print(f"FAIL {what}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok   {what}", flush=True)


async def exercise(session):
    init = await session.initialize()
    check(init.server_info.name == "nivesh-ml", "initialize names the server", init.server_info)
    check(init.capabilities.tools is not None and init.capabilities.resources is not None, "tools and resources offered")

    listed = await session.list_tools()
    names = [t.name for t in listed.tools]
    check(names == TOOLS, "seven tools listed", names)
    for t in listed.tools:
        check(t.input_schema.get("type") == "object" and "$ref" not in json.dumps(t.input_schema),
              f"{t.name}: a self-contained object schema", t.input_schema)
        check(len(t.description or "") > 80, f"{t.name}: described")

    for name, (args, keys) in GOOD.items():
        r = await session.call_tool(name, args)
        text = " ".join(c.text for c in r.content if getattr(c, "type", "") == "text")
        check(not r.is_error, f"{name}: answered", text)
        s = r.structured_content or {}
        missing = [k for k in keys if k not in s]
        check(not missing, f"{name}: structured content has {keys}", f"missing {missing} in {s}")
        check(len(text) > 5, f"{name}: a text summary ({text[:80]!r})")

    for name, args, field in BAD:
        r = await session.call_tool(name, args)
        s = r.structured_content or {}
        text = " ".join(c.text for c in r.content if getattr(c, "type", "") == "text")
        check(r.is_error is True, f"{name} {args}: a tool error", r)
        check(s.get("error_type") in ("validation_error", "bad_request"), f"{name}: error_type {s.get('error_type')}", s)
        if field:
            check(s.get("field") == field, f"{name}: names the field {field}", s)
        check(len(text) > 0, f"{name}: the reason as text ({text[:80]!r})")

    try:
        await session.call_tool("no_such_tool", {})
        check(False, "an unknown tool is a protocol error")
    except Exception as e:  # the SDK raises the JSON-RPC error
        check("no_such_tool" in str(e), "an unknown tool is a protocol error", e)
    again = await session.list_tools()
    check(len(again.tools) == len(TOOLS), "the session goes on after a protocol error")

    resources = await session.list_resources()
    uris = sorted(str(r.uri) for r in resources.resources)
    check("nivesh://models/credit" in uris and len(uris) == 5, "five model cards", uris)
    card = await session.read_resource("nivesh://models/credit")
    body = json.loads(card.contents[0].text)
    check(body["model"] == "credit" and body["version"] >= 1 and body["training"]["dataset_rows"] > 0
          and "primary_metric" in body, "the credit model card: version, metric, training data", body)
    profile = body["training"]["evaluation_data"]
    check(profile["rows"] > 0 and any(f["name"] == "age" for f in profile["features"]),
          "the card summarises the evaluation data", profile)


async def main():
    mode = sys.argv[1]
    if mode == "http":
        import httpx2
        headers = {"X-API-Key": sys.argv[3]} if len(sys.argv) > 3 else {}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with streamable_http_client(sys.argv[2], http_client=http) as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await exercise(session)
    elif mode == "stdio":
        env = {"PATH": os.environ.get("PATH", ""), "NIVESH_DATA_DIR": "store", "LOG_LEVEL": "warn"}
        params = StdioServerParameters(command=sys.argv[2], args=["mcp"], env=env, cwd=sys.argv[3])
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await exercise(session)
    else:
        sys.exit(f"unknown mode {mode!r}")
    print("mcp client: all checks passed", flush=True)


asyncio.run(main())
