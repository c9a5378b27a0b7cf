"""The five models through Triton's own Python clients (tritonclient.http and .grpc), against a running
nivesh-ml server: health, readiness, metadata, configuration and inference — with the
client's defaults (binary tensors both ways, no Content-Type) and with binary_data=False —
and every answer compared with the JSON route's answer for the same input.

    python tests/oip/tritonclient_check.py 127.0.0.1:8000 [127.0.0.1:8001]   # REST [and gRPC]

Run by `crates/nivesh-ml/tests/server.rs` (`tritonclient_talks_to_the_server`) when
NIVESH_TEST_TRITON_PYTHON names a Python with `tritonclient[http,grpc]` (.ci/run installs it).
Exit status 0 when every check holds; each failure is printed.
"""

import datetime
import json
import sys
import urllib.request

import numpy as np
import tritonclient.http as httpclient

URL = sys.argv[1]
NOW = datetime.datetime.now(datetime.timezone.utc).isoformat()
APPLICANT = {
    "age": 35, "monthly_income": 80000.0, "monthly_debt": 20000.0, "credit_limit": 200000.0,
    "credit_used": 50000.0, "loan_amount": 500000.0, "payments_missed": 1, "total_payments": 48,
    "months_employed": 60, "credit_history_months": 84, "num_credit_accounts": 4,
    "has_mortgage": False, "has_car_loan": True, "employment_type": "salaried", "education": "graduate",
}
NUMPY = {"INT64": np.int64, "FP64": np.float64, "BOOL": np.bool_, "BYTES": np.object_}

failures = []


def check(what, cond):
    if not cond:
        failures.append(what)
        print("FAIL", what)


def json_route(route, body):
    req = urllib.request.Request(f"http://{URL}/predict/{route}", json.dumps(body).encode(),
                                 {"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read())


def text_input(name, values, binary):
    t = MOD.InferInput(name, [len(values)], "BYTES")
    data = np.array([v.encode() for v in values], dtype=np.object_)
    if MOD is httpclient:
        t.set_data_from_numpy(data, binary_data=binary)
    else:
        t.set_data_from_numpy(data)
    return t


def as_text(x):
    return x.decode() if isinstance(x, bytes) else x


# model -> (JSON route, JSON body, inputs(binary), {output: how to compare with the JSON answer})
CASES = {
    "intent": ("intent", {"query": "how much did I spend on food last month"},
               lambda b: [text_input("text", ["how much did I spend on food last month"], b)],
               {"intent": lambda v, j: as_text(v) == j["intent"],
                "confidence": lambda v, j: abs(float(v) - j["confidence"]) < 1e-6,
                "alternatives": lambda v, j: json.loads(as_text(v)) == j["alternatives"]}),
    "ner": ("ner", {"text": "Paid ₹1.5 lakh on 15 March", "reference_date": "2026-03-20"},
            lambda b: [text_input("text", ["Paid ₹1.5 lakh on 15 March"], b),
                       text_input("reference_date", ["2026-03-20"], b)],
            {"entities": lambda v, j: json.loads(as_text(v)) == j["entities"]}),
    "spending": ("spending", {"user_id": "U0001", "months": 3},
                 lambda b: [text_input("request", [json.dumps({"user_id": "U0001", "months": 3})], b)],
                 {"forecast": lambda v, j: json.loads(as_text(v)) == j["forecast"],
                  "model_used": lambda v, j: as_text(v) == j["model_used"]}),
    "anomaly": ("anomaly", {"user_id": "U0001", "transaction": {"timestamp": NOW, "amount": 250000.0,
                                                                "merchant": "Never Seen", "category": "shopping",
                                                                "channel": "card"}},
                None,
                {"anomaly_score": lambda v, j: abs(float(v) - j["anomaly_score"]) < 1e-12,
                 "is_anomaly": lambda v, j: bool(v) == j["is_anomaly"],
                 "reasons": lambda v, j: json.loads(as_text(v)) == j["reasons"]}),
    "credit": ("credit-risk", {"applicant_data": APPLICANT}, None,
               {"default_probability": lambda v, j: abs(float(v) - j["default_probability"]) < 1e-12,
                "risk_score": lambda v, j: int(v) == j["risk_score"],
                "credit_score": lambda v, j: int(v) == j["credit_score"],
                "risk_category": lambda v, j: as_text(v) == j["risk_category"],
                "reason_codes": lambda v, j: json.loads(as_text(v)) == j["reason_codes"]}),
}
anomaly_body = CASES["anomaly"][1]
CASES["anomaly"] = CASES["anomaly"][:2] + (
    lambda b: [text_input("request", [json.dumps(anomaly_body)], b)],) + CASES["anomaly"][3:]


def credit_inputs(binary):
    inputs = []
    meta = metadata("credit")
    for i in meta["inputs"]:
        if i["name"] == "applicant_data":
            continue
        value = APPLICANT[i["name"]]
        if i["datatype"] == "BYTES":
            value = value.encode()
        t = MOD.InferInput(i["name"], [1], i["datatype"])
        data = np.array([value], dtype=NUMPY[i["datatype"]])
        if MOD is httpclient:
            t.set_data_from_numpy(data, binary_data=binary)
        else:
            t.set_data_from_numpy(data)
        inputs.append(t)
    return inputs


CASES["credit"] = CASES["credit"][:2] + (credit_inputs,) + CASES["credit"][3:]

def metadata(model):
    return client.get_model_metadata(model) if MOD is httpclient else client.get_model_metadata(model, as_json=True)


def suite(protocol):
    check(f"{protocol}: is_server_live", client.is_server_live())
    check(f"{protocol}: is_server_ready", client.is_server_ready())
    server = client.get_server_metadata() if MOD is httpclient else client.get_server_metadata(as_json=True)
    check(f"{protocol}: server metadata advertises binary_tensor_data", "binary_tensor_data" in server["extensions"])
    for model, (route, body, make_inputs, compare) in CASES.items():
        check(f"{protocol} {model}: is_model_ready", client.is_model_ready(model))
        meta = metadata(model)
        check(f"{protocol} {model}: metadata names the model", meta["name"] == model and meta["versions"])
        if MOD is httpclient:
            config = client.get_model_config(model)
        else:
            config = client.get_model_config(model, as_json=True)["config"]
        check(f"{protocol} {model}: config has max_batch_size", int(config.get("max_batch_size", 0)) > 0)
        check(f"{protocol} {model}: config lists the inputs", len(config.get("input", [])) == len(meta["inputs"]))
        check(f"{protocol} {model}: a version not served is not ready", not client.is_model_ready(model, "999"))
        expected = json_route(route, body)
        # HTTP: the client's default (binary both ways), then JSON; gRPC: raw contents
        for binary in ((True, False) if MOD is httpclient else (True,)):
            if MOD is httpclient:
                outputs = [MOD.InferRequestedOutput(name, binary_data=binary) for name in compare]
            else:
                outputs = [MOD.InferRequestedOutput(name) for name in compare]
            kw = {} if binary else {"outputs": outputs}
            result = client.infer(model, make_inputs(binary), request_id=f"{model}-{binary}", **kw)
            response = result.get_response() if MOD is httpclient else result.get_response(as_json=True)
            check(f"{protocol} {model} (binary={binary}): id echoed", response["id"] == f"{model}-{binary}")
            for name, same in compare.items():
                value = result.as_numpy(name)
                ok = value is not None and value.shape == (1,) and same(value[0], expected)
                check(f"{protocol} {model} (binary={binary}): {name} = the JSON route's", ok)
        print(f"ok {protocol} {model}")
    result = client.infer("intent", [text_input("text", ["my balance", "plan my retirement", "pay rent"], True)])
    check(f"{protocol}: intent, a batch of 3", result.as_numpy("intent").shape == (3,))
    try:
        client.infer("intent", [text_input("query", ["hi"], True)])
        check(f"{protocol}: an unknown input is refused", False)
    except Exception as e:  # tritonclient.utils.InferenceServerException
        check(f"{protocol}: an unknown input is refused with the reason", "unknown input `query`" in str(e))


MOD = httpclient
client = httpclient.InferenceServerClient(url=URL)
suite("http")
if len(sys.argv) > 2:
    import tritonclient.grpc as grpcclient
    MOD = grpcclient
    client = grpcclient.InferenceServerClient(url=sys.argv[2])
    suite("grpc")

if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print("all tritonclient checks passed")
