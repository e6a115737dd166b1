"""Streaming latency: time to the first non-empty content delta (TTFT) and the mean gap between
content chunks, over N sequential streamed chat completions. Standard library only.

usage: stream_ttft.py URL KEY MODEL [N]   → prints "ttft_p50_ms ttft_p99_ms gap_mean_ms"
"""
import http.client
import json
import sys
import time
from urllib.parse import urlparse


def one(url, key, model):
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    body = json.dumps({"model": model, "stream": True,
                       "messages": [{"role": "user", "content": "你好，请介绍一下你自己"}]})
    start = time.perf_counter()
    conn.request("POST", u.path, body=body.encode(), headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + key})
    resp = conn.getresponse()
    first, stamps = None, []
    for line in resp:
        line = line.strip()
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        for choice in chunk.get("choices", []):
            text = (choice.get("delta") or {}).get("content") or ""
            # The gateway's explicit notice is its own text, not the model's: skip it.
            if text and "人工智能" not in text:
                now = time.perf_counter()
                stamps.append(now)
                if first is None:
                    first = now - start
    conn.close()
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return first, gaps


def main():
    url, key, model = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    ttfts, gaps = [], []
    for _ in range(n):
        first, g = one(url, key, model)
        if first is not None:
            ttfts.append(first * 1000)
        gaps.extend(x * 1000 for x in g)
    ttfts.sort()
    p = lambda q: ttfts[min(len(ttfts) - 1, int(q * len(ttfts)))] if ttfts else float("nan")
    gap = sum(gaps) / len(gaps) if gaps else float("nan")
    print("%.2f %.2f %.2f" % (p(0.5), p(0.99), gap))


main()
