"""Schemathesis hooks: the request rules that JSON Schema cannot say.

The OpenAPI document says every rule it can (types, ranges, patterns, required fields, and
"one of these fields" as `anyOf`). Three rules relate values to each other, so a generator
that reads only the schema makes requests the server rightly refuses with 422 naming the
field; these hooks leave such requests out of the generated ones, and nothing else:

- a spending history's debits (of `category`, when given) span at least 7 days, first to last;
- an anomaly's `user_id` and `transaction.user_id`, when both are given, are the same user;
- a credit applicant's `payments_missed` is at most `total_payments`;
- feedback's `outcome` is the kind its prediction's model takes (a string for intent, spans
  for ner, a number for spending, a boolean for anomaly and credit): the hook learns which
  model answered each `prediction_id` from the responses it sees.

The server's answers to these requests are tested in tests/server.rs
(`every_route_answers_with_its_contract`).
"""

from datetime import datetime

import schemathesis

MIN_DAYS = 7


def _day(ts):
    """The local date of an RFC 3339 timestamp (its own offset), or None if unreadable."""
    if not isinstance(ts, str):
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00").replace("z", "+00:00")).date()
    except ValueError:
        return None


def _spending_ok(req):
    if not isinstance(req, dict):
        return True
    txns = req.get("transactions")
    if not isinstance(txns, list):
        return True
    category = req.get("category")
    days = set()
    for t in txns:
        if not isinstance(t, dict):
            return True
        if t.get("direction") not in (None, "debit"):
            continue
        if category is not None and t.get("category", "other") != category:
            continue
        day = _day(t.get("timestamp"))
        if day is None:
            return True  # unreadable: the server's 422 is what the schema predicts
        days.add(day)
    if not days:
        return False
    return (max(days) - min(days)).days + 1 >= MIN_DAYS


def _anomaly_ok(req):
    if not isinstance(req, dict) or not isinstance(req.get("transaction"), dict):
        return True
    outer, inner = req.get("user_id"), req["transaction"].get("user_id")
    return outer is None or inner is None or outer == inner


def _credit_ok(req):
    if not isinstance(req, dict) or not isinstance(req.get("applicant_data"), dict):
        return True
    a = req["applicant_data"]
    missed, total = a.get("payments_missed"), a.get("total_payments")
    if isinstance(missed, (int, float)) and isinstance(total, (int, float)):
        return missed <= total
    return True


# prediction_id -> the model that answered it, from the responses seen so far
ANSWERED_BY = {}


def _outcome_fits(model, outcome):
    if model == "intent":
        return isinstance(outcome, str)
    if model == "ner":
        return isinstance(outcome, list) and all(
            isinstance(e, dict)
            and all(isinstance(e.get(k), (int, float)) and not isinstance(e.get(k), bool) for k in ("start", "end"))
            and all(float(e[k]).is_integer() and e[k] >= 0 for k in ("start", "end"))
            and isinstance(e.get("label"), str)
            for e in outcome
        )
    if model == "spending":
        return isinstance(outcome, (int, float)) and not isinstance(outcome, bool) and outcome >= 0
    if model in ("anomaly", "credit"):
        return isinstance(outcome, bool)
    return True


def _feedback_ok(req):
    if not isinstance(req, dict):
        return True
    pid = req.get("prediction_id")
    model = (ANSWERED_BY.get(pid) if isinstance(pid, str) else None) or req.get("model")
    return model is None or "outcome" not in req or _outcome_fits(model, req["outcome"])


RULES = {
    "/feedback": _feedback_ok,
    "/predict/spending": _spending_ok,
    "/predict/anomaly": _anomaly_ok,
    "/predict/credit-risk": _credit_ok,
}


@schemathesis.hook
def filter_case(ctx, case):
    # a case hook: schemathesis applies it in every phase (body hooks skip the coverage phase)
    path = ctx.operation.path
    body = case.body
    batch = path.endswith("/batch")
    rule = RULES.get(path.removesuffix("/batch"))
    if rule is None:
        return True
    if batch:
        if isinstance(body, dict) and isinstance(body.get("inputs"), list):
            return all(rule(item) for item in body["inputs"])
        return True
    return rule(body)


@schemathesis.hook
def after_call(ctx, case, response):
    path = case.operation.path
    if not path.startswith("/predict/") or response.status_code != 200:
        return
    model = path.split("/")[2].removesuffix("-risk")
    try:
        answer = response.json()
    except ValueError:
        return
    for out in answer.get("outputs", [answer]) if isinstance(answer, dict) else []:
        if isinstance(out, dict) and isinstance(out.get("prediction_id"), str):
            ANSWERED_BY[out["prediction_id"]] = model


@schemathesis.hook
def before_add_examples(ctx, examples):
    # the examples phase builds cases from the schema's examples; the same rules apply
    examples[:] = [case for case in examples if filter_case(ctx, case)]
