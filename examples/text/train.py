#!/usr/bin/env python3
"""Trains the `support_tickets` example: a text classifier whose clients send {"text": "..."} and ferry turns the text
into token ids (the tokenizer is in the model's config.yaml).

    /usr/bin/python3 examples/text/train.py [--out examples/models] [--seed 0]

What it does (deterministic, no network; needs numpy, scikit-learn, onnx, and PyYAML only for the self-check):

1. generates ~600 short support tickets (ASCII, mixed case) about three topics, account, billing and technical, from
   word lists and templates (seeded);
2. fits CountVectorizer(lowercase=True, token_pattern=r"(?u)\\b\\w\\w+\\b") + LogisticRegression (multinomial);
3. writes OUT/support_tickets/1/model.onnx, which takes the token ids (INT64 [N, 32]; ferry's vocabulary is
   ["<pad>", "<unk>"] + the vectorizer's vocabulary in column order, so id = column + 2) and computes
   OneHot -> ReduceSum over the tokens (counts) -> drop the <pad>/<unk> columns -> MatMul + Add -> Softmax
   = `probabilities` FP32 [N, 3];
4. writes OUT/support_tickets/config.yaml (the tokenizer and the labels) and OUT/support_tickets/reference.json
   (texts and scikit-learn's predict_proba for them);
5. checks with numpy that tokenizing as the config says + the ONNX graph reproduce predict_proba.
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "models"))
MODEL = "support_tickets"
LABELS = ["account", "billing", "technical"]
LENGTH = 32
PAD, UNK = "<pad>", "<unk>"
PATTERN = r"\b\w\w+\b"  # scikit-learn's default token_pattern without (?u); the corpus is ASCII, so \w means the same
INPUT, OUTPUT = "ids", "probabilities"

TOPICS = {
    "account": {
        "things": ["password", "login", "username", "profile", "email address", "account", "two factor code",
                   "security question", "sign in page", "account settings", "verification email", "2fa code"],
        "problems": ["is locked", "was hacked", "does not accept my password", "needs a reset", "shows the wrong name",
                     "never arrived", "keeps asking me to verify", "was deleted", "is blocked after three attempts"],
        "asks": ["reset my password", "unlock my account", "change my username", "update my email address",
                 "delete my account", "recover my login", "merge two accounts", "turn off two factor"],
    },
    "billing": {
        "things": ["invoice", "credit card", "subscription", "bill", "payment", "refund", "receipt", "annual plan",
                   "monthly charge", "discount code", "bank transfer", "price"],
        "problems": ["was charged twice", "is higher than last month", "did not go through", "shows the wrong amount",
                     "was declined", "has not been refunded", "is missing the tax number", "renewed without notice"],
        "asks": ["get a refund", "cancel my subscription", "change my payment method", "download my invoices",
                 "switch to the annual plan", "apply a discount code", "update my billing address", "stop the charges"],
    },
    "technical": {
        "things": ["app", "website", "server", "upload", "dashboard", "mobile app", "sync", "api", "export",
                   "search page", "desktop client", "error 500"],
        "problems": ["crashes on start", "is very slow", "shows a blank screen", "times out", "throws an error",
                     "keeps loading forever", "fails after the update", "loses my data", "returns error 404"],
        "asks": ["fix the crash", "install the update", "restore my files", "speed up the dashboard",
                 "connect the api", "reinstall the desktop client", "clear the cache", "debug the sync"],
    },
}
TEMPLATES = [
    "my {thing} {problem}",
    "hi, my {thing} {problem}. please help",
    "I need to {ask}",
    "can you {ask}? my {thing} {problem}",
    "how do I {ask}",
    "the {thing} {problem} again",
    "urgent: {thing} {problem}",
    "hello team, I want to {ask} today",
    "since yesterday the {thing} {problem}",
    "please {ask}, thanks",
    "is it possible to {ask}? the {thing} {problem}",
    "{thing} {problem} and I cannot work",
]


def restyle(text, rng):
    """Mixed case as people type it: sentence case, a shouted word, Title Case or all lower."""
    style = rng.integers(0, 4)
    if style == 0:
        return text[:1].upper() + text[1:]
    if style == 1:
        words = text.split(" ")
        k = rng.integers(0, len(words))
        words[k] = words[k].upper()
        return " ".join(words)
    if style == 2:
        return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
    return text


def make_corpus(seed, per_topic=200):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(per_topic):
        for k, topic in enumerate(LABELS):
            words = TOPICS[topic]
            # Now and then a ticket borrows its object from another topic, so the classes overlap a little.
            source = TOPICS[LABELS[rng.integers(0, 3)]] if rng.uniform() < 0.15 else words
            template = TEMPLATES[rng.integers(0, len(TEMPLATES))]
            text = template.format(
                thing=source["things"][rng.integers(0, len(source["things"]))],
                problem=words["problems"][rng.integers(0, len(words["problems"]))],
                ask=words["asks"][rng.integers(0, len(words["asks"]))],
            )
            texts.append(restyle(text, rng))
            labels.append(k)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], np.array(labels)[order]


# ----------------------------------------------------------------------------------------------------------- ONNX


def export_onnx(clf, n_words):
    depth = n_words + 2
    W = np.asarray(clf.coef_, dtype=np.float32).T.copy()  # [V, 3]
    b = np.asarray(clf.intercept_, dtype=np.float32)
    i64 = lambda values: np.array(values, dtype=np.int64)
    graph = helper.make_graph(
        [
            helper.make_node("OneHot", [INPUT, "depth", "off_on"], ["one_hot"], name="one_hot", axis=-1),
            helper.make_node("ReduceSum", ["one_hot", "token_axis"], ["id_counts"], name="count", keepdims=0),
            helper.make_node("Slice", ["id_counts", "first_word", "end_word", "column_axis"], ["counts"], name="words"),
            helper.make_node("MatMul", ["counts", "coef"], ["scores"], name="matmul"),
            helper.make_node("Add", ["scores", "intercept"], ["logits"], name="add"),
            helper.make_node("Softmax", ["logits"], [OUTPUT], name="softmax", axis=1),
        ],
        MODEL,
        [helper.make_tensor_value_info(INPUT, TensorProto.INT64, ["N", LENGTH])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", len(LABELS)])],
        initializer=[
            numpy_helper.from_array(i64([depth]), "depth"),
            numpy_helper.from_array(np.array([0.0, 1.0], dtype=np.float32), "off_on"),
            numpy_helper.from_array(i64([1]), "token_axis"),
            numpy_helper.from_array(i64([2]), "first_word"),
            numpy_helper.from_array(i64([depth]), "end_word"),
            numpy_helper.from_array(i64([1]), "column_axis"),
            numpy_helper.from_array(W, "coef"),
            numpy_helper.from_array(b, "intercept"),
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="ferry examples/text/train.py",
        producer_version="scikit-learn " + sklearn.__version__,
        doc_string="CountVectorizer + LogisticRegression over token ids; the tokenizer is in config.yaml",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def run_onnx(model, feeds, dtype):
    """A small numpy evaluator for the ONNX ops of this graph (float tensors cast to `dtype`)."""
    values = {}
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        values[t.name] = a.astype(dtype) if a.dtype.kind == "f" else a
    values.update(feeds)
    for node in model.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        x = [values[i] for i in node.input]
        op = node.op_type
        if op == "OneHot":
            depth = int(x[1].reshape(-1)[0])
            idx = np.where(x[0] < 0, x[0] + depth, x[0])
            out = np.where(idx[..., None] == np.arange(depth), x[2][1], x[2][0])
        elif op == "ReduceSum":
            out = x[0].sum(axis=tuple(int(v) for v in x[1]), keepdims=bool(a.get("keepdims", 1)))
        elif op == "Slice":
            index = [slice(None)] * x[0].ndim
            index[int(x[3][0])] = slice(int(x[1][0]), int(x[2][0]))
            out = x[0][tuple(index)]
        elif op == "MatMul":
            out = x[0] @ x[1]
        elif op == "Add":
            out = x[0] + x[1]
        elif op == "Softmax":
            e = np.exp(x[0] - x[0].max(axis=a["axis"], keepdims=True))
            out = e / e.sum(axis=a["axis"], keepdims=True)
        else:
            raise RuntimeError("op %s not handled by the checker" % op)
        values[node.output[0]] = out.astype(dtype) if out.dtype.kind == "f" else out
    return values[model.graph.output[0].name]


# ----------------------------------------------------------------------------------------------------------- YAML

PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def yscalar(v):
    """A YAML flow scalar that YAML 1.1 and 1.2 parsers read back as the same value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        r = repr(float(v))
        mantissa, _, exponent = r.partition("e")
        return mantissa + ".0e" + exponent if exponent and "." not in mantissa else r
    if isinstance(v, str):
        # Words such as "no", "on", "404" or "<pad>" are quoted so no parser reads them as booleans, numbers or syntax.
        return v if PLAIN.match(v) and v.lower() not in RESERVED else json.dumps(v)
    raise TypeError(type(v))


def yflow(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, yflow(x)) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(yflow(x) for x in v) + "]"
    return yscalar(v)


def wrap(items, indent, width=110):
    """A long flow sequence's items, several to a line (the caller writes the brackets)."""
    lines, line = [], indent
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(line) + len(piece) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += piece + " "
    lines.append(line.rstrip())
    return lines


# ----------------------------------------------------------------------------------------------------------- check


def encode(feature, record):
    """ferry's text feature, written out in Python from the config alone: the row of token ids."""
    tok = feature["tokens"]
    text = record.get(feature["name"])
    if text is None:
        if feature.get("missing", "reject") != "unknown":
            raise ValueError("'%s' is missing" % feature["name"])
        text = ""
    if tok.get("lowercase"):
        text = text.lower()
    index = {w: i for i, w in enumerate(tok["vocabulary"])}
    ids = []
    for t in re.findall(tok["pattern"], text, flags=re.ASCII):
        if t in index:
            ids.append(index[t])
        elif "unknown_id" in tok:
            ids.append(tok["unknown_id"])
    ids = ids[: tok["length"]]
    return ids + [tok["pad_id"]] * (tok["length"] - len(ids))


# ----------------------------------------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="the model repository (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    texts, y = make_corpus(args.seed)
    assert all(t.isascii() for t in texts)
    n_test = 120
    vectorizer = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w\w+\b")
    counts = vectorizer.fit_transform(texts[n_test:])
    clf = LogisticRegression(max_iter=1000).fit(counts, y[n_test:])
    accuracy = float((clf.predict(vectorizer.transform(texts[:n_test])) == y[:n_test]).mean())
    longest = max(len(re.findall(PATTERN, t.lower())) for t in texts)
    print("%d tickets, %d words in the vocabulary, longest %d tokens; test accuracy %.3f (%d tickets)"
          % (len(texts), len(vectorizer.vocabulary_), longest, accuracy, n_test))

    words = [None] * len(vectorizer.vocabulary_)
    for w, j in vectorizer.vocabulary_.items():
        words[j] = str(w)
    assert None not in words and all(re.fullmatch(PATTERN, w, flags=re.ASCII) for w in words)
    vocabulary = [PAD, UNK] + words

    feature = {
        "name": "text",
        "type": "text",
        "into": INPUT,
        "missing": "unknown",
        "tokens": {"vocabulary": vocabulary, "lowercase": True, "pattern": PATTERN, "length": LENGTH,
                   "pad_id": 0, "unknown_id": 1},
    }
    postprocess = {"output": OUTPUT, "labels": LABELS, "top_k": 2}
    tok = feature["tokens"]
    config_text = "\n".join(
        [
            "# Written by examples/text/train.py (scikit-learn %s, seed %d)." % (sklearn.__version__, args.seed),
            "# Clients send {\"text\": \"...\"}; ferry lower-cases it, finds the tokens with the pattern, maps them to ids",
            "# (vocabulary index; <unk> for other words), truncates/pads to %d and feeds the ids to `%s`." % (LENGTH, INPUT),
            "max_batch_size: 64",
            "features:",
            "  - name: text",
            "    type: text",
            "    into: %s" % INPUT,
            "    missing: unknown",
            "    tokens:",
            "      lowercase: true",
            "      pattern: %s" % json.dumps(PATTERN),
            "      length: %d" % LENGTH,
            "      pad_id: 0",
            "      unknown_id: 1",
            "      vocabulary: [",
        ]
        + wrap([yscalar(w) for w in vocabulary], "        ")
        + [
            "      ]",
            "postprocess:",
        ]
        + ["  %s: %s" % (k, yflow(v)) for k, v in postprocess.items()]
    ) + "\n"

    records = [
        {"text": "I forgot my password and the sign in page keeps asking me to verify"},
        {"text": "Why was my credit card charged twice this month? I want a refund"},
        {"text": "The Mobile App CRASHES on start after the update"},
        {"text": "hElLo, My InVoIcE Shows The WRONG amount"},
        {"text": "zebra quantum marmalade xylophone"},  # no word the model knows
        {"text": "Please unlock my account, the payment page times out with error 500"},
        {"text": "sync sync sync: the desktop client loses my data"},
        {"text": "How do I change my username?"},
        {"text": ""},
    ]
    probabilities = clf.predict_proba(vectorizer.transform([r["text"] for r in records]))
    labels = [LABELS[int(np.argmax(p))] for p in probabilities]
    reference = {
        "model": MODEL,
        "library": "scikit-learn " + sklearn.__version__,
        "tolerance": {"atol": 1e-5, "rtol": 0},
        "records": records,
        "probabilities": [[float(p) for p in row] for row in probabilities],
        "labels": labels,
    }

    model = export_onnx(clf, len(words))

    # ---- independent check: the config read back + the ONNX graph (numpy) == predict_proba
    import yaml  # PyYAML; only for the check

    parsed = yaml.safe_load(config_text)
    assert parsed["features"] == [feature], "config.yaml does not read back as written"
    assert parsed["postprocess"] == postprocess and parsed["max_batch_size"] == 64
    for r in records:
        n = len(re.findall(PATTERN, r["text"].lower()))
        assert n < LENGTH, (n, r)
    ids = np.array([encode(parsed["features"][0], r) for r in records], dtype=np.int64)
    # Counting the ids again equals the vectorizer's counts: pad and unknown ids are dropped like unknown words.
    id_counts = np.stack([np.bincount(row, minlength=len(vocabulary))[2:] for row in ids])
    sk_counts = vectorizer.transform([r["text"] for r in records]).toarray()
    if not np.array_equal(id_counts, sk_counts):
        sys.exit("support_tickets: token ids do not count as CountVectorizer counts")
    p64 = run_onnx(model, {INPUT: ids}, np.float64)
    p32 = run_onnx(model, {INPUT: ids}, np.float32)
    err64 = float(np.abs(p64 - probabilities).max())
    err32 = float(np.abs(p32.astype(np.float64) - probabilities).max())
    print("check: ids + ONNX (float64) vs predict_proba %.2e; (float32) %.2e" % (err64, err32))
    if not (err64 < 1e-6 and err32 < 1e-5):
        sys.exit("support_tickets: the config tokens + ONNX graph do NOT reproduce the scikit-learn model")
    if [LABELS[int(np.argmax(p))] for p in p32] != labels:
        sys.exit("support_tickets: labels from the ONNX graph differ from scikit-learn's")
    # A missing text (missing: unknown) is all padding: the same answer as the empty text.
    assert encode(parsed["features"][0], {}) == [0] * LENGTH

    # The records as V2 tensors, in the layout of the other examples' reference.json ("cases"): a model with features
    # takes one column per feature (BYTES for a text).
    reference["cases"] = [{
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(records)], "data": [r["text"] for r in records]}],
        "outputs": [
            {"name": OUTPUT, "datatype": "FP32", "shape": list(probabilities.shape),
             "data": [float(v) for v in np.asarray(probabilities).ravel()]},
            {"name": "label", "datatype": "BYTES", "shape": [len(records)], "data": labels},
        ],
    }]

    # ---- write
    model_dir = os.path.join(args.out, MODEL)
    os.makedirs(os.path.join(model_dir, "1"), exist_ok=True)
    written = []
    path = os.path.join(model_dir, "1", "model.onnx")
    onnx.save(model, path)
    written.append(path)
    path = os.path.join(model_dir, "config.yaml")
    with open(path, "w") as f:
        f.write(config_text)
    written.append(path)
    path = os.path.join(model_dir, "reference.json")
    with open(path, "w") as f:
        json.dump(reference, f, indent=2, allow_nan=False)
        f.write("\n")
    written.append(path)
    for p in written:
        print("wrote", os.path.relpath(p))


if __name__ == "__main__":
    main()
