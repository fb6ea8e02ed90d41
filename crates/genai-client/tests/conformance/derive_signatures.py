# Usage: python3 derive_signatures.py <corpus dir> <expected.json> [--write]
"""Derives the signature and server-side-tool facts of each recorded response
straight from the raw corpus files (independently of the Rust decoders)."""
import base64, gzip, hashlib, json, os, re, sys
import yaml

ROOT = sys.argv[1]
EXPECTED = sys.argv[2]

def sha16(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]

def parts_of(obj):
    """Parts of the first candidate of one response object."""
    if not isinstance(obj, dict):
        return []
    cands = obj.get("candidates") or []
    if not cands or not isinstance(cands[0], dict):
        return []
    content = cands[0].get("content") or {}
    return content.get("parts") or [] if isinstance(content, dict) else []

def facts(objs):
    sigs, tools = [], 0
    for obj in objs:
        for part in parts_of(obj):
            if not isinstance(part, dict):
                continue
            if "thoughtSignature" in part:
                sigs.append(part["thoughtSignature"])
            if "toolCall" in part or "toolResponse" in part:
                tools += 1
    return {"signatures": len(sigs), "signatures_sha": sha16("\n".join(sigs)), "server_tool_parts": tools}

def sse_objs(text):
    out = []
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                out.append(json.loads(line[5:].strip()))
            except Exception:
                pass
    return out

def body_objs(text):
    text = text.strip()
    if text.startswith("data:") or "\ndata:" in text:
        return sse_objs(text)
    try:
        value = json.loads(text)
    except Exception:
        return []
    return value if isinstance(value, list) else [value]

def method(url):
    if ":streamGenerateContent" in url or ":generateContent" in url or ":countTokens" in url:
        return True
    return False

def observe(path):
    raw = open(path, "rb").read()
    name = os.path.basename(path)
    text = raw.decode("utf-8", "replace")
    if path.endswith(".yaml"):
        doc = yaml.safe_load(text)
        out = []
        for inter in doc["interactions"]:
            if not method(inter["request"]["uri"]):
                continue
            resp = inter["response"]
            body = (resp.get("body") or {}).get("string")
            if isinstance(body, bytes):
                body = gzip.decompress(body).decode() if body[:2] == b"\x1f\x8b" else body.decode()
            if body:
                out.append(body_objs(body))
            else:
                parsed = resp.get("parsed_body")
                out.append(parsed if isinstance(parsed, list) else [parsed])
        return out
    if name.endswith(".chunks.txt"):
        return [[json.loads(l) for l in text.splitlines() if l.strip()]]
    try:
        doc = json.loads(text)
    except Exception:
        return [body_objs(text)]
    if isinstance(doc, dict) and "interactions" in doc:
        return [inter["response"]["bodySegments"] for inter in doc["interactions"]]
    if isinstance(doc, dict) and ("calls" in doc or ("request" in doc and "response" in doc)):
        calls = doc.get("calls") or [doc]
        out = []
        for call in calls:
            body = call["response"]["body"]
            if isinstance(body, str):
                out.append(body_objs(body))
            elif isinstance(body, list):
                out.append(body)
            else:
                out.append([body])
        return out
    return [doc if isinstance(doc, list) else [doc]][0:1] if not isinstance(doc, list) else [doc]

expected = json.load(open(EXPECTED))
changed = 0
for rel, entries in expected.items():
    obs = observe(os.path.join(ROOT, rel))
    if len(obs) != len(entries):
        print("COUNT MISMATCH", rel, len(obs), len(entries), file=sys.stderr)
        continue
    for entry, objs in zip(entries, obs):
        f = facts(objs if isinstance(objs, list) else [objs])
        if f["signatures"] or f["server_tool_parts"]:
            print(rel, f)

# Write the facts into expected.json, keeping its one-entry-a-line layout.
if len(sys.argv) > 3 and sys.argv[3] == "--write":
    lines = open(EXPECTED).read().split("\n")
    current, index, out = None, 0, []
    derived = {rel: [facts(o if isinstance(o, list) else [o]) for o in observe(os.path.join(ROOT, rel))] for rel in expected}
    for line in lines:
        m = re.match(r'^  "(.+)": \[$', line)
        if m:
            current, index = m.group(1), 0
        elif line.startswith("    {") and current is not None:
            f = derived[current][index]
            index += 1
            if f["signatures"] or f["server_tool_parts"]:
                end = line.rstrip().endswith(",")
                body = line.rstrip().rstrip(",")
                assert body.endswith("}")
                body = body[:-1] + ', "signatures": %d, "signatures_sha": "%s", "server_tool_parts": %d}' % (f["signatures"], f["signatures_sha"], f["server_tool_parts"])
                line = body + ("," if end else "")
        out.append(line)
    open(EXPECTED, "w").write("\n".join(out))
