#!/usr/bin/env python3
"""The attacker's probe of issue 22, re-runnable: one numbered check per item of the issue that
can be observed from outside the gateway, each printing PASS or FAIL with what it saw.

It talks to a running `hegui serve` (started by probe.sh, with the config that script writes:
small header and body timeouts, `limits.concurrency` = 8, case-insensitive end-user ids, a
suspension after two blocked inputs, a per-user rate limit, an upstream that cannot be reached)
over plain sockets and http.client, reads the ledger with `hegui audit trace`, and reads the
gateway's stderr. The last check kills the gateway with SIGKILL.

Environment (probe.sh sets it): HEGUI_URL, HEGUI_KEY, HEGUI_BIN (the hegui binary), HEGUI_DB
(sqlite:PATH), HEGUI_PID, HEGUI_LOG (the gateway's stderr), HEADER_READ_SECS, BODY_READ_SECS,
BODY_BYTES and CONCURRENCY (the config's limits). ONLY=1,5,10 runs only those items (item 10
kills the gateway).

Output: Markdown on stdout (a list of checks, then a summary); exit 1 if any check FAILs.

Every check compares against what a gateway without the fix answers (given in a comment where
it is not obvious); controls (a clean request passes, a raw answer without the word arrives) make
sure that a check cannot pass because nothing got through at all.
"""

import base64
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

URL = urllib.parse.urlparse(os.environ.get("HEGUI_URL", "http://127.0.0.1:9342"))
HOST, PORT = URL.hostname, URL.port
KEY = os.environ.get("HEGUI_KEY", "")
BIN = os.environ.get("HEGUI_BIN", "hegui")
DB = os.environ.get("HEGUI_DB", "")
PID = int(os.environ.get("HEGUI_PID", "0"))
LOG = os.environ.get("HEGUI_LOG", "")
HEADER_READ_SECS = float(os.environ.get("HEADER_READ_SECS", "2"))
BODY_READ_SECS = float(os.environ.get("BODY_READ_SECS", "3"))
BODY_BYTES = int(os.environ.get("BODY_BYTES", str(4 * 1024 * 1024)))
ONLY = {int(i) for i in os.environ.get("ONLY", "").split(",") if i.strip()}

WORD = "冰毒"  # a block-level word of the bundled sample lexicon
CHAT = "/v1/chat/completions"
RESULTS = []


def log(*args):
    print("[probe]", *args, file=sys.stderr, flush=True)


def report(check, ok, what, saw):
    RESULTS.append((check, ok, what))
    saw = saw if len(saw) <= 400 else saw[:400] + "…"
    print(f"- {check} **{'PASS' if ok else 'FAIL'}** {what} — saw: {saw}", flush=True)


# ---------------------------------------------------------------------------------------------
# HTTP


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def code(self):
        j = self.json()
        return (j or {}).get("error", {}).get("code") if isinstance(j, dict) else None

    def text(self):
        return self.body.decode("utf-8", "replace")

    def brief(self):
        return f"{self.status} {self.text()[:160]!r}"


USER_SEQ = [0]
AUTO = object()


def request(method, path, body=None, headers=None, key=AUTO, user=AUTO, timeout=30):
    """One request on a fresh connection. `body`: a dict (sent as JSON), str or bytes. `key`:
    AUTO (the probe's key), None (no Authorization) or a full header value. `user`: AUTO gives
    each request an end user of its own (x-hegui-user), so that rate limits and sanctions of
    one check do not touch another; None sends none."""
    headers = dict(headers or {})
    if key is AUTO:
        headers["Authorization"] = f"Bearer {KEY}"
    elif key is not None:
        headers["Authorization"] = key
    if user is AUTO and not (isinstance(body, dict) and "user" in body):
        USER_SEQ[0] += 1
        headers.setdefault("x-hegui-user", f"probe-{os.getpid()}-{USER_SEQ[0]}")
    elif isinstance(user, (str, bytes)):
        headers["x-hegui-user"] = user
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def chat(content, stream=False, **extra):
    body = {"model": "mock-chat", "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def blocked(r):
    """Whether the gateway refused the input: 200 with verdict `block` (chat, refusal mode), or
    400 `content_filter`."""
    return (r.status == 200 and r.header("x-hegui-verdict") == "block") or (
        r.status == 400 and r.code() == "content_filter"
    )


def trace(record_id):
    """(the record as JSON or None, the CLI's stderr)."""
    p = subprocess.run([BIN, "audit", "trace", record_id, "--database", DB],
                       capture_output=True, text=True, timeout=60)
    try:
        record, _ = json.JSONDecoder().raw_decode(p.stdout.lstrip())
    except ValueError:
        record = None
    return record, p.stderr.strip() or p.stdout.strip()


def strings_of(value, out):
    """Every string in a JSON value, and the strings of strings that are JSON themselves
    (tool-call arguments), escapes decoded by the parser."""
    if isinstance(value, str):
        out.append(value)
        try:
            inner = json.loads(value)
        except ValueError:
            return out
        if not isinstance(inner, str):
            strings_of(inner, out)
    elif isinstance(value, list):
        for v in value:
            strings_of(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            strings_of(v, out)
    return out


def received(r):
    """Every string the client received, from a JSON body or from each SSE event."""
    out = []
    text = r.text()
    events = [e[len("data: "):] for e in text.split("\n\n") if e.startswith("data: ")] or [text]
    for e in events:
        try:
            strings_of(json.loads(e), out)
        except ValueError:
            out.append(e)
    return "\n".join(out)


def raw(answer):
    return "#raw:" + base64.b64encode(json.dumps(answer, ensure_ascii=False).encode()).decode()


def sock(timeout=15):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    return s


def head(path, length, key=True, extra=""):
    auth = f"Authorization: Bearer {KEY}\r\n" if key else ""
    return (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


def parse_raw(data):
    """A Resp from the raw bytes of an HTTP/1.1 answer (Content-Length or chunked body)."""
    headers_raw, _, body = data.partition(b"\r\n\r\n")
    lines = headers_raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return Resp(status_of(data) or 0, headers, body)


def raw_exchange(head_bytes, body, timeout=60):
    """Sends a request head and body (as far as the server lets it: it may answer and close
    early), then reads the answer until the server closes the connection."""
    s = sock(timeout)
    try:
        s.sendall(head_bytes)
        for i in range(0, len(body), 65536):
            s.sendall(body[i:i + 65536])
    except OSError:
        pass
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    return parse_raw(data)


def timed_answer(head_bytes, seconds):
    """(what the server answered within `seconds` to a request head sent alone, seconds taken)."""
    s = sock()
    s.sendall(head_bytes)
    start = time.monotonic()
    data = wait_answer(s, seconds)
    took = time.monotonic() - start
    s.close()
    return data, took


def status_of(data):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


def wait_answer(s, seconds):
    """Bytes the server sends within `seconds` (until it closes or a whole head arrived)."""
    s.setblocking(False)
    end, data = time.monotonic() + seconds, b""
    while time.monotonic() < end:
        ready, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            break
        try:
            chunk = s.recv(65536)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data and len(data) > 12:
            time.sleep(0.05)
            try:
                data += s.recv(65536)
            except OSError:
                pass
            break
    return data


def closed_within(s, seconds):
    """Seconds until the server closed `s` (EOF or reset), or None if still open."""
    start = time.monotonic()
    s.settimeout(seconds)
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return time.monotonic() - start
    except socket.timeout:
        return None
    except OSError:
        return time.monotonic() - start


# ---------------------------------------------------------------------------------------------
# 1 and 3: text that gets past the input guard


def item_1():
    user = lambda content: {"role": "user", "content": content}  # noqa: E731
    hello = user("你好")
    escaped = json.dumps({"q": WORD})  # '{"q": "\u51b0\u6bd2"}': ASCII escapes only
    cases = [
        ("assistant tool_calls[].function.arguments", CHAT, {"model": "mock-chat", "messages": [
            hello, {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "f", "arguments": json.dumps({"q": WORD}, ensure_ascii=False)}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"}, user("继续")]}),
        ("tool-call arguments written with \\uXXXX escapes", CHAT, {"model": "mock-chat", "messages": [
            hello, {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": escaped}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"}, user("继续")]}),
        ("legacy function_call arguments", CHAT, {"model": "mock-chat", "messages": [
            hello, {"role": "assistant", "content": None,
                    "function_call": {"name": "f", "arguments": WORD}}, user("继续")]}),
        ("a message's name", CHAT, {"model": "mock-chat", "messages": [
            {"role": "user", "name": WORD, "content": "你好"}]}),
        ("refusal in the history", CHAT, {"model": "mock-chat", "messages": [
            hello, {"role": "assistant", "content": "好", "refusal": WORD}, user("继续")]}),
        ("reasoning_content in the history", CHAT, {"model": "mock-chat", "messages": [
            hello, {"role": "assistant", "content": "好", "reasoning_content": WORD}, user("继续")]}),
        ("content given as an object", CHAT, chat({"type": "text", "text": WORD})),
        ("a part whose text is not a string", CHAT, chat([{"type": "text", "text": {"value": WORD}}])),
        ("tools[].function.description", CHAT, chat("你好", tools=[
            {"type": "function", "function": {"name": "f", "description": WORD}}])),
        ("the response_format schema", CHAT, chat("你好", response_format={
            "type": "json_schema", "json_schema": {"name": "s", "schema": {
                "type": "object", "properties": {"a": {"type": "string", "description": WORD}}}}})),
        ("prediction.content", CHAT, chat("你好", prediction={"type": "content", "content": WORD})),
        ("a top-level prompt", CHAT, chat("你好", prompt=WORD)),
        ("vLLM chat_template", CHAT, chat("你好", chat_template="{{ '" + WORD + "' }}")),
        ("vLLM documents", CHAT, chat("你好", documents=[{"title": "t", "text": WORD}])),
        ("a field the gateway does not know (item 3: scanned by default)", CHAT,
         chat("你好", x_vendor_extra={"note": WORD})),
        ("embeddings input as nested arrays", "/v1/embeddings",
         {"model": "mock-embed", "input": [["你好", [WORD]]]}),
        ("images negative_prompt", "/v1/images/generations",
         {"model": "mock-image", "prompt": "一只猫", "negative_prompt": WORD}),
        ("speech instructions", "/v1/audio/speech",
         {"model": "mock-tts", "input": "你好", "voice": "alloy", "instructions": WORD}),
    ]
    # Control: a clean request is answered by the upstream, verdict clean; without it, a gateway
    # that refused everything would pass every case below.
    r = request("POST", CHAT, chat("你好"))
    report("1.0", r.status == 200 and r.header("x-hegui-verdict") == "clean",
           "control: a clean chat request is answered, verdict clean",
           f"{r.status}, verdict {r.header('x-hegui-verdict')!r}")
    # A gateway before the fix: 200 from the mock, `x-hegui-verdict: clean`, and a record whose
    # request_text lacks the word.
    # Either is right: the text is scanned (the input is refused, the record holds the word,
    # as sent or \u-escaped), or the request is refused as malformed and nothing is forwarded.
    # An error the mock wrote (message `mock: …`) was forwarded.
    escaped_word = json.dumps(WORD)[1:-1]
    for i, (name, path, body) in enumerate(cases, 1):
        r = request("POST", path, body)
        rid = r.header("x-hegui-record-id")
        record, said = trace(rid) if rid else (None, "no x-hegui-record-id")
        text = (record or {}).get("request_text") or ""
        in_record = WORD in text or escaped_word in text
        message = str(((r.json() or {}).get("error") or {}).get("message", "")) if isinstance(r.json(), dict) else ""
        malformed = 400 <= r.status < 500 and not blocked(r) and not message.startswith("mock:")
        report(f"1.{i}", (blocked(r) and in_record) or malformed,
               f"input: {name} is scanned (refused, on the record) or not forwarded",
               f"{r.status} {r.code() or ''} verdict {r.header('x-hegui-verdict')!r}; record "
               + (f"{record['outcome']}, word in request_text: {in_record}" if record else said))


# ---------------------------------------------------------------------------------------------
# 2: text that gets past the output guard (the mock answers `#raw:` JSON as it is)


def item_2():
    def answer(obj, choice):
        return {"id": "c", "object": obj, "created": 1, "model": "mock-chat", "choices": [choice]}

    chunk = lambda choice: answer("chat.completion.chunk", choice)  # noqa: E731
    plain = lambda choice: answer("chat.completion", choice)  # noqa: E731
    stop = chunk({"index": 0, "delta": {}, "finish_reason": "stop"})

    def call(index, first, args):
        c = {"index": index, "function": {"arguments": args}}
        if first:
            c.update(id=f"call_{index}", type="function")
            c["function"]["name"] = "search"
        return chunk({"index": 0, "delta": {"tool_calls": [c]}, "finish_reason": None})

    fingerprint = plain({"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "好"}})
    fingerprint["system_fingerprint"] = WORD
    cases = [
        ("plain logprobs tokens and top_logprobs", plain({"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "好的"},
            "logprobs": {"content": [{"token": "冰", "logprob": -0.1,
                                      "top_logprobs": [{"token": WORD, "logprob": -0.5}]}]}}), False),
        ("streamed logprobs tokens", [
            chunk({"index": 0, "delta": {"role": "assistant", "content": "好冰"},
                   "logprobs": {"content": [{"token": "好"}, {"token": "冰"}]}, "finish_reason": None}),
            chunk({"index": 0, "delta": {"content": "毒"},
                   "logprobs": {"content": [{"token": "毒"}]}, "finish_reason": None}), stop], True),
        ("legacy choices[].text", plain({"index": 0, "text": WORD, "finish_reason": "stop"}), False),
        ("tool-call arguments with \\uXXXX escapes", plain({"index": 0, "finish_reason": "tool_calls",
            "message": {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "f", "arguments": json.dumps({"q": WORD})}}]}}), False),
        ("streamed tool calls, id and name in the first fragment, two interleaved", [
            call(0, True, '{"q": "冰'), call(1, True, '{"city": '), call(0, False, '毒"}'),
            call(1, False, '"北京"}'),
            chunk({"index": 0, "delta": {}, "finish_reason": "tool_calls"})], True),
        ("streamed delta.content as an array after the first chunk", [
            chunk({"index": 0, "delta": {"role": "assistant", "content": "好"}, "finish_reason": None}),
            chunk({"index": 0, "delta": {"content": [{"type": "text", "text": WORD}]},
                   "finish_reason": None}), stop], True),
        ("a chunk with \"choices\": [] and an extra field", [
            chunk({"index": 0, "delta": {"content": "好"}, "finish_reason": None}),
            {"id": "c", "object": "chat.completion.chunk", "choices": [], "note": WORD}, stop], True),
        ("system_fingerprint", fingerprint, False),
        ("message as a plain string", plain({"index": 0, "message": "出售" + WORD,
                                             "finish_reason": "stop"}), False),
        ("an answer without choices", {"id": "c", "object": "chat.completion",
                                       "output_text": WORD}, False),
    ]
    # Control: a raw answer without the word arrives as sent (so the cases below really reach
    # the client through the gateway).
    r = request("POST", CHAT, chat(raw(plain({"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": "PROBE-OK"}}))))
    report("2.0", r.status == 200 and "PROBE-OK" in received(r),
           "control: a raw upstream answer without the word reaches the client", r.brief())
    # A gateway before the fix delivers the word in each of these (e.g. in
    # logprobs.content[].token while the content was replaced by the notice).
    for i, (name, answer_json, stream) in enumerate(cases, 1):
        r = request("POST", CHAT, chat(raw(answer_json), stream=stream))
        got = received(r)
        report(f"2.{i}", r.status == 200 and WORD not in got,
               f"output: {name}{' (streamed)' if stream else ''} does not deliver the word",
               f"{r.status}, word delivered: {WORD in got}, {got[:120]!r}")
    i = len(cases) + 1
    r = request("POST", "/v1/images/generations", {"model": "mock-image", "prompt": raw(
        {"created": 1, "data": [{"url": "https://example.invalid/a.png", "revised_prompt": WORD}]})})
    report(f"2.{i}", WORD not in received(r),
           "output: images' revised_prompt does not deliver the word",
           f"word delivered: {WORD in received(r)}; {r.brief()}")


# ---------------------------------------------------------------------------------------------
# 4: hits per record are bounded; resident memory stays under a bound


def vm(field):
    try:
        for line in open(f"/proc/{PID}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def item_4():
    # The largest content that fits in limits.body-bytes with its JSON envelope.
    repeats = (BODY_BYTES - 1024) // len(WORD.encode())
    r = request("POST", CHAT, chat(WORD * repeats), timeout=120)
    rid = r.header("x-hegui-record-id")
    record, said = trace(rid) if rid else (None, f"no record id ({r.brief()})")
    if record is None:
        report("4.1", False, "a flood of hits keeps a bounded record", said)
    else:
        stages = json.loads(record["verdicts"])["stages"]
        kept = sum(len(s.get("hits", [])) for s in stages)
        counted = sum(s.get("hit_count") or len(s.get("hits", [])) for s in stages)
        size = len(record["verdicts"].encode())
        # Before the fix: 36 MB of verdicts and every hit kept.
        report("4.1", blocked(r) and size < 64 * 1024 and kept <= 32 and counted == repeats,
               f"{repeats} repeats of the word: verdicts < 64 KiB, ≤ 32 hits kept, the exact count",
               f"{r.status}, verdicts {size} bytes, {kept} hits kept of {counted} counted")
    peak = vm("VmHWM")
    # Before the fix: 1.66 GB for one such request.
    report("4.2", peak is not None and peak < 256,
           "the gateway's peak resident memory (VmHWM) stays under 256 MiB",
           f"{peak:.1f} MiB" if peak is not None else f"no /proc/{PID}/status")


# ---------------------------------------------------------------------------------------------
# 5: slow and idle connections


def item_5():
    # 5.1 A keyed client sending its body one byte a second gets 408 within body-read-secs.
    # Before the fix: no read timeout, the gateway waits for the body as long as it trickles.
    s = sock()
    s.sendall(head(CHAT, 60))
    start, data = time.monotonic(), b""
    deadline = start + BODY_READ_SECS + 3
    while time.monotonic() < deadline and not data:
        try:
            s.sendall(b" ")
        except OSError:
            data = wait_answer(s, 0.5)
            break
        data = wait_answer(s, 1.0)
    took = time.monotonic() - start
    s.close()
    report("5.1", status_of(data) == 408 and took <= BODY_READ_SECS + 2,
           f"a keyed body at one byte a second gets 408 within body-read-secs ({BODY_READ_SECS:g} s) + 2 s",
           f"{status_of(data)} after {took:.1f} s")

    # 5.2 Without a key: 401 at once, before the body is read.
    data, took = timed_answer(head(CHAT, 1000, key=False) + b"{", 3)
    report("5.2", status_of(data) == 401 and took < 1.5,
           "an unauthenticated slow body gets 401 without its body being read",
           f"{status_of(data)} after {took:.2f} s")

    # 5.3 Without a key, an oversized Content-Length and a body that is not JSON: 401 first.
    data, _ = timed_answer(head(CHAT, BODY_BYTES * 2, key=False) + b"not json", 3)
    report("5.3", status_of(data) == 401, "401 comes before 413/400 for a request without a key",
           f"{status_of(data)}")

    # 5.4 A keyed Content-Length over limits.body-bytes: 413 before the body is sent.
    # Before this is fixed: the gateway waits for the body, then 408 after body-read-secs.
    data, took = timed_answer(head(CHAT, BODY_BYTES + 1), BODY_READ_SECS + 2)
    report("5.4", status_of(data) == 413 and took < 1.5,
           "a Content-Length over limits.body-bytes is answered 413 before the body is sent",
           f"{status_of(data) or 'no answer'} after {took:.2f} s")

    # 5.5 An idle connection is closed after header-read-secs.
    # Before the fix: 20,000 idle connections stayed open until the descriptors ran out.
    s = sock()
    took = closed_within(s, HEADER_READ_SECS + 5)
    s.close()
    report("5.5", took is not None and HEADER_READ_SECS - 0.5 <= took <= HEADER_READ_SECS + 2,
           f"an idle connection is closed after header-read-secs ({HEADER_READ_SECS:g} s)",
           f"closed after {took:.1f} s" if took is not None else "still open")

    # 5.6 Headers sent a byte every 0.5 s are cut off after header-read-secs as well.
    s = sock()
    start, closed = time.monotonic(), None
    for b in b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 40:
        try:
            s.sendall(bytes([b]))
        except OSError:
            closed = time.monotonic() - start
            break
        if closed_within(s, 0.5) is not None:
            closed = time.monotonic() - start
            break
    s.close()
    report("5.6", closed is not None and closed <= HEADER_READ_SECS + 2,
           "headers sent a byte at a time are cut off after header-read-secs",
           f"closed after {closed:.1f} s" if closed is not None else "still open after the whole dribble")

    # 5.7 300 unauthenticated connections dribbling a body do not make keyed requests 503.
    # Before the fix: every chat request got 503 while they were held.
    held, answered = [], 0
    for _ in range(300):
        try:
            s = sock()
            s.sendall(head(CHAT, 100000, key=False) + b"{")
            held.append(s)
        except OSError:
            break
    time.sleep(0.5)
    for s in held:
        if status_of(wait_answer(s, 0.01)) == 401:
            answered += 1
    rs = [request("POST", CHAT, chat("你好")) for _ in range(5)]
    for s in held:
        s.close()
    codes = [r.status for r in rs]
    report("5.7", len(held) == 300 and all(c == 200 for c in codes),
           "300 unauthenticated slow bodies held open: keyed chat requests still get 200",
           f"{len(held)} held ({answered} answered 401 at once); keyed: {codes}")


    # 5.8 Keyed clients dribbling their bodies cannot hold every slot past body-read-secs: as many
    # of them as limits.concurrency, a byte a second each; once body-read-secs has passed they
    # must have been cut off (408), and a normal request is served. A body timeout that only
    # counts the time between two bytes lets them hold the slots for as long as they dribble:
    # the normal request gets 503 `overloaded`.
    slots = int(os.environ.get("CONCURRENCY", "8"))
    dribblers = []
    for _ in range(slots):
        s = sock()
        s.sendall(head(CHAT, 1000))
        dribblers.append(s)
    stop = threading.Event()

    def dribble():
        while not stop.is_set():
            for s in dribblers:
                try:
                    s.sendall(b" ")
                except OSError:
                    pass
            time.sleep(1)

    t = threading.Thread(target=dribble)
    t.start()
    time.sleep(BODY_READ_SECS + 1.5)
    r = request("POST", CHAT, chat("你好"))
    stop.set()
    t.join()
    cut = sum(1 for s in dribblers if status_of(wait_answer(s, 0.05)) == 408)
    for s in dribblers:
        s.close()
    time.sleep(0.5)
    report("5.8", r.status == 200 and cut == slots,
           f"{slots} keyed bodies at a byte a second (= limits.concurrency) are cut off after "
           f"body-read-secs and do not take the gateway down",
           f"a chat request {BODY_READ_SECS + 1.5:g} s in: {r.status} {r.code() or ''}; "
           f"dribblers answered 408: {cut} of {slots}")


# ---------------------------------------------------------------------------------------------
# 6: one gateway-wide concurrency limit (goodput under overload: overload.sh)


def item_6():
    # Fill the 8 slots (limits.concurrency in probe.sh) with chat requests whose upstream never
    # answers (they end in 504 after limits.upstream-timeout-secs); then other routes must get
    # 503 `overloaded`. Before the fix the limit applied per route, so /v1/models and
    # /v1/embeddings were answered 200 at once.
    slots = int(os.environ.get("CONCURRENCY", "8"))
    done = []

    def hold():
        done.append(request("POST", CHAT, chat("你好 #fault:timeout"), timeout=60).status)

    threads = [threading.Thread(target=hold) for _ in range(slots)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    others = [request("GET", "/v1/models"),
              request("POST", "/v1/embeddings", {"model": "mock-embed", "input": "你好"})]
    for t in threads:
        t.join()
    codes = [(r.status, r.code()) for r in others]
    report("6.1", all(r.status == 503 and r.code() == "overloaded" for r in others),
           f"with all {slots} slots taken by chat requests, other routes get 503 `overloaded` (one limit)",
           f"others: {codes}; the slot holders: {sorted(done)}")
    r = request("GET", "/v1/models")
    report("6.2", r.status == 200, "when the slots are free again, requests are served", r.brief())


# ---------------------------------------------------------------------------------------------
# 7: end-user ids: one rule, no second spelling of a suspended user


def suspend(user):
    """Two blocked inputs as `user` (probe.sh: policy.suspend-after = 2). Returns the state."""
    state = ""
    for _ in range(2):
        r = request("POST", CHAT, chat(WORD, user=user), user=None)
        state = r.header("x-hegui-user-state") or state
    return state


def item_7():
    state = suspend("mallory")
    report("7.0", state == "suspended", "two blocked inputs suspend `mallory` (the policy)",
           f"x-hegui-user-state {state!r}")
    # Before the fix each of these spellings got 200.
    spellings = [("mallory", None), ("MALLORY", None), ("Mallory ", None), (" mallory", None),
                 ("mal\u200blory (zero-width space)", "mal\u200blory"),
                 ("ｍａｌｌｏｒｙ (full width)", "ｍａｌｌｏｒｙ"),
                 ("mal\u00adlory (soft hyphen)", "mal\u00adlory"),
                 ("mallory\\u0000 (trailing NUL)", "mallory\u0000"),
                 ("mallory\\u2060 (word joiner)", "mallory\u2060")]
    saw = []
    for label, value in spellings:
        r = request("POST", CHAT, chat("你好", user=value or label), user=None)
        saw.append((label, r.status, r.code()))
    for label, value in [("header MALLORY", b"MALLORY"), ("header ｍａｌｌｏｒｙ (UTF-8)", "ｍａｌｌｏｒｙ".encode())]:
        r = request("POST", CHAT, chat("你好"), user=value)
        saw.append((label, r.status, r.code()))
    refused = [s for s in saw if s[1] in (400, 403)]
    report("7.1", len(refused) == len(saw),
           "every spelling of the suspended `mallory` is refused (403, or 400 for an invisible/control character)",
           "; ".join(f"{l!r}: {s} {c or ''}" for l, s, c in saw))
    saw = []
    for value in [123, {"id": "mallory"}, ["mallory"]]:
        r = request("POST", CHAT, chat("你好", user=value), user=None)
        saw.append((value, r.status, r.code()))
    # Before the fix a non-string `user` became `anonymous` (200).
    report("7.2", all(s == 400 for _, s, _ in saw), "a non-string `user` is refused with 400",
           "; ".join(f"{v!r}: {s} {c or ''}" for v, s, c in saw))
    r = request("POST", CHAT, chat("你好", user="alice"), user=None)
    report("7.3", r.status == 200, "control: another user (`alice`) is served", r.brief())
    state = suspend("anonymous")
    named = request("POST", CHAT, chat("你好", user="anonymous"), user=None)
    unnamed = request("POST", CHAT, chat("你好"), user=None)
    # Before the fix the literal id `anonymous` was never sanctioned.
    report("7.4", named.status == 403 and unnamed.status == 200,
           "a real id `anonymous` can be suspended; requests that name no user are not",
           f"state {state!r}; user `anonymous`: {named.status} {named.code() or ''}; no user: {unnamed.status}")


# ---------------------------------------------------------------------------------------------
# 8: client-supplied fields cannot forge log lines


def log_since(offset):
    with open(LOG, "rb") as f:
        f.seek(offset)
        return f.read()


def item_8():
    if not LOG or not os.path.exists(LOG):
        report("8.1", False, "client-supplied fields cannot forge log lines", "no HEGUI_LOG")
        return
    forged = ("2026-01-01T00:00:00.000000Z  INFO hegui_gateway::guard::sanctions: sanction "
              "user=victim state=suspended FORGED-BY-PROBE")
    before = os.path.getsize(LOG)
    sent = []
    for user in ["probe\n" + forged, "probe\r\n" + forged, "\x1b[31mred\x1b[0m", "nul\x00user"]:
        r = request("POST", CHAT, chat(WORD, user=user), user=None)
        sent.append(r.status)
    # The same through another client-supplied string: the model name.
    r = request("POST", CHAT, {"model": "m\n" + forged, "messages": [{"role": "user", "content": "你好"}]})
    sent.append(r.status)
    time.sleep(0.5)
    new = log_since(before)
    # A gateway that logs `user` raw writes a line that starts with the forged timestamp.
    forged_lines = [l for l in new.split(b"\n") if l.lstrip(b"\r").startswith(forged[:30].encode())]
    raw_controls = [c for c in (b"\x1b[31m", b"\x00") if c in new]
    report("8.1", not forged_lines and not raw_controls,
           "a `user` (or model) with a newline, ANSI escape or NUL forges no log line and writes no raw control byte",
           f"answers {sent}; {len(new.splitlines())} new log lines, forged: {len(forged_lines)}, raw controls: {raw_controls}")
    # A valid id with quotes, blocked (so that its line is logged): the quotes must come out
    # escaped, or the id could forge fields of the line (`user="x" risk=none user="victim"`).
    before = os.path.getsize(LOG)
    user = 'eve" risk="none" user="victim'
    r = request("POST", CHAT, chat(WORD, user=user), user=None)
    rid = r.header("x-hegui-record-id")
    time.sleep(0.5)
    lines = [l for l in log_since(before).decode("utf-8", "replace").split("\n") if rid and rid in l]
    raw_field = any('user="victim"' in l for l in lines)
    report("8.2", r.status == 200 and bool(lines) and not raw_field,
           "a valid id with quotes is logged escaped: it cannot forge a field",
           f"{r.status}; line of record {rid}: {lines[0].strip() if lines else 'none'}")


# ---------------------------------------------------------------------------------------------
# 9: refusals are on the record (401 is not)


def refused_record(check, what, r, user=None):
    rid = r.header("x-hegui-record-id")
    record, said = trace(rid) if rid else (None, "no x-hegui-record-id")
    ok = bool(record and record.get("outcome") == "refused"
              and (user is None or record.get("end_user") == user))
    report(check, ok, what, f"{r.status} {r.code() or ''}; record "
           + (f"outcome {record.get('outcome')}, end user {record.get('end_user')!r}" if record else said))


def seq_of(r):
    record, _ = trace(r.header("x-hegui-record-id")) if r.header("x-hegui-record-id") else (None, "")
    return record.get("seq") if record else None


def item_9():
    # 401: on the record (outcome `refused`, no tenant), with nothing of what was sent, not even
    # the key presented. Before the fix a 401 left no trace at all.
    time.sleep(1.1)  # refusal records are throttled to one per client, reason and second
    wrong = f"hg_probe_wrong_{os.getpid()}_{int(time.time())}"
    r = request("POST", CHAT, chat(WORD + " probe-secret-body"), key=f"Bearer {wrong}")
    rid = r.header("x-hegui-record-id")
    record, said = trace(rid) if rid else (None, "no x-hegui-record-id")
    dumped = json.dumps(record, ensure_ascii=False) if record else ""
    kept = [x for x in (wrong, WORD, "probe-secret-body") if x in dumped]
    report("9.1", r.status == 401 and bool(record) and record.get("outcome") == "refused"
           and not record.get("tenant") and not kept,
           "a 401 is on the record as `refused`, without the body or the key presented",
           f"{r.status} {r.code() or ''}; record " + (
               f"outcome {record.get('outcome')!r}, tenant {record.get('tenant')!r}, "
               f"client {record.get('client_addr')!r}, kept of what was sent: {kept}" if record else said))
    # A flood of 401s cannot fill the ledger: one record per address, reason and second.
    a = request("POST", CHAT, chat("你好"))
    codes = [request("POST", CHAT, chat("你好"), key=None).status for _ in range(30)]
    b = request("POST", CHAT, chat("你好"))
    sa, sb = seq_of(a), seq_of(b)
    extra = sb - sa - 1 if sa is not None and sb is not None else None
    report("9.2", set(codes) == {401} and extra is not None and extra <= 2,
           "30 requests without a key in a row leave at most 2 records (one per address, reason and second)",
           f"401s: {len(codes)}; records between two keyed requests: {extra}")
    time.sleep(1.1)  # refusal records are throttled to one per user, guard and second
    refused_record("9.3", "400 (a body that is not JSON) of a keyed caller is recorded as `refused`",
                   request("POST", CHAT, "{not json"))
    refused_record("9.4", "404 model_not_found (a blocked word in the model name) is recorded as `refused`",
                   request("POST", CHAT, {"model": "模型" + WORD, "messages": [{"role": "user", "content": "你好"}]}))
    refused_record("9.5", "413 (a body over limits.body-bytes) is recorded as `refused`",
                   raw_exchange(head(CHAT, BODY_BYTES + 2, extra="Connection: close\r\n"),
                                b"{" + b" " * BODY_BYTES + b"}"))
    rs = [request("POST", CHAT, chat("你好", user="hasty"), user=None) for _ in range(12)]
    limited = [r for r in rs if r.status == 429]
    if limited:
        refused_record("9.6", "429 (the end user's rate limit) is recorded as `refused`", limited[0], "hasty")
    else:
        report("9.6", False, "429 (the end user's rate limit) is recorded as `refused`",
               f"no 429 in {[r.status for r in rs]}")
    time.sleep(1.1)
    refused_record("9.7", "403 user_suspended (`mallory`, suspended in item 7) is recorded as `refused`",
                   request("POST", CHAT, chat("你好", user="mallory"), user=None), "mallory")


# ---------------------------------------------------------------------------------------------
# 11: small ones


def item_11():
    r = request("POST", CHAT, {"model": "down-model", "messages": [{"role": "user", "content": "你好"}]})
    msg = ((r.json() or {}).get("error") or {}).get("message", "") if isinstance(r.json(), dict) else ""
    leaked = [s for s in ("127.0.0.1", "internal-secret", ":9/") if s in r.text()]
    report("11.1", r.status == 502 and msg and not leaked,
           "a 502's message does not show the internal upstream URL", f"{r.status} {msg!r}; leaked {leaked}")
    saw = []
    for method, path, key in [("GET", CHAT, AUTO), ("POST", "/healthz", None), ("DELETE", "/v1/models", AUTO)]:
        r = request(method, path, key=key)
        j = r.json()
        shaped = isinstance(j, dict) and isinstance(j.get("error"), dict) and {"message", "type", "code"} <= set(j["error"])
        saw.append((method, path, r.status, shaped))
    # Before the fix: 405 with an empty body.
    report("11.2", all(s == 405 and shaped for _, _, s, shaped in saw),
           "405 answers in the OpenAI error shape", "; ".join(f"{m} {p}: {s}, shaped {sh}" for m, p, s, sh in saw))
    saw = [(scheme, request("POST", CHAT, chat("你好"), key=f"{scheme} {KEY}").status)
           for scheme in ("BEARER", "bearer", "BeArEr")]
    report("11.3", all(s == 200 for _, s in saw), "the Authorization scheme is case-insensitive",
           "; ".join(f"{k}: {s}" for k, s in saw))


# ---------------------------------------------------------------------------------------------
# 12: the sample lexicon does not block ordinary maths and English


def item_12():
    for i, text in enumerate(["solve for x: 2x = 4", "3 x 4 = 12", "Twitter (X)",
                              "Let x be 5; then x + x = 10 and x times x = 25"], 1):
        r = request("POST", CHAT, chat(text))
        # Before the fix the pattern `xxx` normalised to `x` and blocked all of these.
        report(f"12.{i}", r.status == 200 and r.header("x-hegui-verdict") not in ("block", ""),
               f"input {text!r} is not blocked", f"{r.status}, verdict {r.header('x-hegui-verdict')!r}")
    said = "答案是 3 x 4 = 12。"
    r = request("POST", CHAT, chat("#say:" + said))
    content = (((r.json() or {}).get("choices") or [{}])[0].get("message") or {}).get("content") or ""
    report("12.5", r.status == 200 and said in content,
           f"an answer {said!r} is not cut", f"{r.status} {content!r}")


# ---------------------------------------------------------------------------------------------
# 10: kill -9 mid-stream leaves a record for every id a client holds (last: kills the gateway)


def item_10():
    streams, ids = [], []
    for i in range(3):
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        body = json.dumps(chat(f"故事 {i} #fault:slowloris", stream=True), ensure_ascii=False).encode()
        conn.request("POST", CHAT, body, {"Authorization": f"Bearer {KEY}",
                                          "Content-Type": "application/json",
                                          "x-hegui-user": f"probe-stream-{i}"})
        r = conn.getresponse()
        ids.append(r.getheader("x-hegui-record-id") or "")
        streams.append((conn, r))
    time.sleep(3)  # the mock sends a chunk every 2 s
    got = []
    for conn, r in streams:
        conn.sock.settimeout(1)
        try:
            got.append(len(r.read1(65536)))
        except OSError:
            got.append(0)
    os.kill(PID, signal.SIGKILL)
    time.sleep(0.5)
    for conn, _ in streams:
        conn.close()
    saw = []
    ok = all(ids)
    for rid in ids:
        if not rid:
            saw.append("no x-hegui-record-id")
            continue
        record, said = trace(rid)
        interrupted = "interrupted" in said
        ok = ok and record is not None and interrupted
        saw.append(f"{rid}: " + (f"record {record.get('outcome')!r}, " if record else "no record, ")
                   + f"trace says interrupted: {interrupted}")
    # Before the fix: `no audit record has id …` for every open stream.
    report("10.1", ok, "after kill -9 mid-stream, every x-hegui-record-id a client holds names a record that `hegui audit trace` reports as interrupted",
           f"bytes received before the kill {got}; " + "; ".join(saw))


ITEMS = [(1, item_1), (2, item_2), (4, item_4), (5, item_5), (6, item_6), (7, item_7), (8, item_8),
         (9, item_9), (11, item_11), (12, item_12), (10, item_10)]


def main():
    print("Checks (numbered by the item of issue 22; item 3, the rule, is checked in 1.15 and "
          "2.7; item 6's goodput is overload.sh's):\n")
    for n, fn in ITEMS:
        if ONLY and n not in ONLY:
            continue
        log(f"item {n}")
        try:
            fn()
        except Exception as e:  # a check that cannot run is a FAIL, and the rest still run
            report(f"{n}.x", False, f"item {n} could not run", f"{type(e).__name__}: {e}")
    failed = [c for c, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)} PASS, {len(failed)} FAIL"
          + (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
