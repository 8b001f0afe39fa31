#!/usr/bin/env python3
"""Make a changed copy of a sched-instance/1 file, for the stability benchmark.

  variant.py voter INSTANCE OUT [--seed N]          one more voter with 4 votes
  variant.py ballots INSTANCE OUT PCT [--seed N]    PCT % of the voters re-drawn (each keeps its ballot size)
  variant.py withdraw INSTANCE OUT SOLUTION [--seed N]  a placed session withdrawn (removed with its votes)
  variant.py pin INSTANCE OUT SOLUTION [--seed N]   a session pinned to another slot (a free room there)

Votes are drawn with the instance's own popularity (a session is picked in
proportion to its votes), so the change looks like the ballots already in.
Deterministic for a seed. Python 3 standard library only.
"""
import json
import random
import sys


def weighted_votes(inst, rng, k):
    demand = {s["id"]: 1 for s in inst["sessions"]}
    for v in inst["voters"]:
        for s in v["votes"]:
            demand[s] += 1
    ids = list(demand)
    weights = [demand[i] for i in ids]
    votes = []
    while len(votes) < min(k, len(ids)):
        s = rng.choices(ids, weights)[0]
        if s not in votes:
            votes.append(s)
    return votes


def main(argv):
    seed = 1
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    rng = random.Random(seed)
    kind, src, out = argv[0], argv[1], argv[2]
    inst = json.load(open(src))
    if kind == "voter":
        inst["voters"].append({"id": "Vnew%d" % seed, "votes": weighted_votes(inst, rng, 4)})
    elif kind == "ballots":
        pct = float(argv[3])
        n = max(1, round(len(inst["voters"]) * pct / 100))
        for v in rng.sample(inst["voters"], n):
            v["votes"] = weighted_votes(inst, rng, len(v["votes"]))
    elif kind in ("withdraw", "pin"):
        sol = json.load(open(argv[3]))
        placed = {a["session"]: a for a in sol["assignments"]}
        sid = rng.choice(sorted(placed))
        if kind == "withdraw":
            inst["sessions"] = [s for s in inst["sessions"] if s["id"] != sid]
            for v in inst["voters"]:
                v["votes"] = [s for s in v["votes"] if s != sid]
            inst["voters"] = [v for v in inst["voters"] if v["votes"]]
        else:
            s = next(s for s in inst["sessions"] if s["id"] == sid)
            slots = [t["id"] for t in inst["slots"]
                     if t["id"] != placed[sid]["slot"] and t["id"] not in s.get("unavailable_slots", [])]
            slot = rng.choice(slots)
            used = {a["room"] for a in sol["assignments"] if a["slot"] == slot}
            free = [r["id"] for r in inst["rooms"] if r["id"] not in used] or [r["id"] for r in inst["rooms"]]
            s["pin"] = {"room": rng.choice(free), "slot": slot}
    else:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(inst, open(out, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
