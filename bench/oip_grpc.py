"""Load of the OIP gRPC port: ModelInfer for intent and credit, batch 1 and 64, with CONCURRENCY
calls in flight (grpc.aio, one process), for DURATION seconds each; req/s, rows/s, p50, p99.

    python bench/oip_grpc.py 127.0.0.1:8001        # a Python with tritonclient[grpc] (its stubs)

The client is Python: on a small machine it competes with the server for the cores, so read
the figures as a lower bound of what the server does.
"""
import asyncio
import os
import struct
import sys
import time

import grpc
from tritonclient.grpc import service_pb2, service_pb2_grpc

URL = sys.argv[1]
DURATION = float(os.environ.get("DURATION", "10"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "64"))
APPLICANT = {
    "age": ("INT64", 35), "monthly_income": ("FP64", None), "monthly_debt": ("FP64", 20000.0),
    "credit_limit": ("FP64", 200000.0), "credit_used": ("FP64", 50000.0), "loan_amount": ("FP64", 500000.0),
    "payments_missed": ("INT64", 1), "total_payments": ("INT64", 48), "months_employed": ("INT64", 60),
    "credit_history_months": ("INT64", 84), "num_credit_accounts": ("INT64", 4),
    "has_mortgage": ("BOOL", False), "has_car_loan": ("BOOL", True),
    "employment_type": ("BYTES", "salaried"), "education": ("BYTES", "graduate"),
}


def raw(datatype, values):
    if datatype == "BYTES":
        return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)
    fmt = {"INT64": "q", "FP64": "d", "BOOL": "?"}[datatype]
    return struct.pack("<" + fmt * len(values), *values)


def request(model, n, i):
    r = service_pb2.ModelInferRequest(model_name=model)
    if model == "intent":
        t = r.inputs.add(name="text", datatype="BYTES", shape=[n])
        r.raw_input_contents.append(raw("BYTES", [f"how much did I spend on food in week {i} row {k}" for k in range(n)]))
    else:
        for name, (dt, v) in APPLICANT.items():
            r.inputs.add(name=name, datatype=dt, shape=[n])
            values = [50000.0 + i + k / 100 for k in range(n)] if v is None else [v] * n
            r.raw_input_contents.append(raw(dt, values))
    return r


async def run(model, n):
    async with grpc.aio.insecure_channel(URL) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        latencies, errors, counter = [], 0, [0]
        deadline = time.perf_counter() + DURATION

        async def worker():
            nonlocal errors
            while time.perf_counter() < deadline:
                counter[0] += 1
                req = request(model, n, counter[0])
                t0 = time.perf_counter()
                try:
                    await stub.ModelInfer(req)
                    latencies.append(time.perf_counter() - t0)
                except grpc.aio.AioRpcError:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
    rps = len(latencies) / elapsed
    print(f"| gRPC {model}, batch {n} | {rps:,.0f} | {rps * n:,.0f} | {q(0.5):.2f} ms | {q(0.99):.2f} ms | {errors} |")


print(f"grpc.aio, {CONCURRENCY} calls in flight, {DURATION:.0f} s each, against {URL}")
print("| call | req/s | rows/s | p50 | p99 | errors |")
print("|---|---|---|---|---|---|")
for model, n in [("intent", 1), ("intent", 64), ("credit", 1), ("credit", 64)]:
    asyncio.run(run(model, n))
