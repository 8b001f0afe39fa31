"""Reads hallway's iCalendar feeds with python-icalendar and vobject.

Run by schedule/ics_test.go with Debian's /usr/bin/python3. Input on stdin:

  {"feeds": [{"path": "...", "calname": "...", "tzid": "...",
              "events": [{"uid": "...", "sequence": 0, "status": "CONFIRMED",
                          "summary": "...", "location": "...",
                          "start": "2027-03-14T09:00:00", "end": "...",
                          "start_utc": "2027-03-14T16:00:00+00:00",
                          "description_has": ["..."]}]}]}

start and end are the wall-clock times in the event's zone. Prints one
problem a line; no output means both libraries read every feed as intended.
"""

import datetime
import json
import sys

import icalendar
import vobject

UTC = datetime.timezone.utc
problems = []


def check_time(feed, lib, uid, what, value, wall, utc=None):
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        problems.append(f"{feed}: {lib}: {uid} {what}: {value!r} is not an aware date-time")
        return
    got = value.replace(tzinfo=None).isoformat()
    if got != wall:
        problems.append(f"{feed}: {lib}: {uid} {what}: wall-clock {got}, want {wall}")
    if utc is not None and value.astimezone(UTC).isoformat() != utc:
        problems.append(f"{feed}: {lib}: {uid} {what}: {value.astimezone(UTC).isoformat()} UTC, want {utc}")


def check_event(feed, lib, want, got):
    uid = want["uid"]
    for k in ("sequence", "status", "summary", "location"):
        if got[k] != want[k]:
            problems.append(f"{feed}: {lib}: {uid} {k}: {got[k]!r}, want {want[k]!r}")
    for s in want.get("description_has", []):
        if s not in got["description"]:
            problems.append(f"{feed}: {lib}: {uid} description {got['description']!r} lacks {s!r}")
    check_time(feed, lib, uid, "DTSTART", got["start"], want["start"], want["start_utc"])
    check_time(feed, lib, uid, "DTEND", got["end"], want["end"])
    if got["duration"]:
        problems.append(f"{feed}: {lib}: {uid} has DURATION")


def with_icalendar(feed, data):
    cal = icalendar.Calendar.from_ical(data)
    if str(cal.get("X-WR-CALNAME")) != feed["calname"]:
        problems.append(f"{feed['path']}: icalendar: X-WR-CALNAME {cal.get('X-WR-CALNAME')!r}, want {feed['calname']!r}")
    out = {}
    for ev in cal.walk("VEVENT"):
        uid = str(ev["UID"])
        if ev["DTSTART"].params.get("TZID") not in (None, feed["tzid"]):
            problems.append(f"{feed['path']}: icalendar: {uid}: TZID {ev['DTSTART'].params.get('TZID')}")
        out[uid] = {
            "sequence": int(ev.get("SEQUENCE", -1)),
            "status": str(ev.get("STATUS", "")),
            "summary": str(ev.get("SUMMARY", "")),
            "location": str(ev.get("LOCATION", "")),
            "description": str(ev.get("DESCRIPTION", "")),
            "start": ev["DTSTART"].dt,
            "end": ev["DTEND"].dt if "DTEND" in ev else None,
            "duration": "DURATION" in ev,
        }
    return out


def with_vobject(feed, data):
    cal = vobject.readOne(data.decode("utf-8"), validate=True)
    cal.validate(raiseException=True, complainUnrecognized=False)
    if cal.x_wr_calname.value != feed["calname"]:
        problems.append(f"{feed['path']}: vobject: X-WR-CALNAME {cal.x_wr_calname.value!r}")
    out = {}
    for ev in cal.contents.get("vevent", []):
        out[ev.uid.value] = {
            "sequence": int(ev.sequence.value),
            "status": ev.status.value,
            "summary": ev.summary.value,
            "location": ev.location.value if hasattr(ev, "location") else "",
            "description": ev.description.value,
            "start": ev.dtstart.value,
            "end": ev.dtend.value if hasattr(ev, "dtend") else None,
            "duration": hasattr(ev, "duration"),
        }
    return out


def main():
    spec = json.load(sys.stdin)
    for feed in spec["feeds"]:
        with open(feed["path"], "rb") as f:
            data = f.read()
        for lib, read in (("icalendar", with_icalendar), ("vobject", with_vobject)):
            try:
                got = read(feed, data)
            except Exception as e:  # a parser refusing the feed is the finding
                problems.append(f"{feed['path']}: {lib}: {type(e).__name__}: {e}")
                continue
            want_uids = sorted(e["uid"] for e in feed["events"])
            if sorted(got) != want_uids:
                problems.append(f"{feed['path']}: {lib}: UIDs {sorted(got)}, want {want_uids}")
            for want in feed["events"]:
                if want["uid"] in got:
                    check_event(feed["path"], lib, want, got[want["uid"]])
    for p in problems:
        print(p)


main()
