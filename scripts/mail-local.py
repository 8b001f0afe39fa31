#!/usr/bin/python3
"""Mail the local hallway (scripts/run-local.sh) and read its answers.

  scripts/mail-local.py send SUBJECT [BODY]   mail bot@openinfra.test as jane
  scripts/mail-local.py reply N [BODY]        reply to message N of jane's inbox
  scripts/mail-local.py read                  list jane's inbox with the bodies

Uses the local OpenSMTPD (127.0.0.1:2525) and Dovecot (127.0.0.1:1143).
Set MAIL_USER=someone@openinfra.test / MAIL_PASS to be someone else
(Dovecot users: jane/janepass, dana/danapass, organizers/orgpass,
openinfra/listpass: the list).
"""
import email
import email.message
import email.policy
import email.utils
import imaplib
import os
import smtplib
import sys

USER = os.environ.get("MAIL_USER", "jane@openinfra.test")
PASS = os.environ.get("MAIL_PASS", "janepass")
BOT = "bot@openinfra.test"


def send(subject, body, in_reply_to=None, references=None):
    m = email.message.EmailMessage()
    m["From"] = USER
    m["To"] = BOT
    m["Subject"] = subject
    m["Date"] = email.utils.formatdate(localtime=True)
    m["Message-ID"] = email.utils.make_msgid(domain="openinfra.test")
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
        m["References"] = " ".join(filter(None, [references, in_reply_to]))
    m.set_content(body or "")
    with smtplib.SMTP("127.0.0.1", 2525) as s:
        s.send_message(m)
    print("sent", m["Message-ID"], "to", BOT, "subject:", subject)


def inbox():
    c = imaplib.IMAP4("127.0.0.1", 1143)
    c.login(USER, PASS)
    c.select("INBOX")
    _, data = c.search(None, "ALL")
    msgs = []
    for num in data[0].split():
        _, parts = c.fetch(num, "(RFC822)")
        msgs.append(email.message_from_bytes(parts[0][1], policy=email.policy.default))
    c.logout()
    return msgs


def main(argv):
    if len(argv) >= 2 and argv[0] == "send":
        send(argv[1], argv[2] if len(argv) > 2 else "")
    elif len(argv) >= 2 and argv[0] == "reply":
        msgs = inbox()
        m = msgs[int(argv[1]) - 1]
        send("Re: " + m["Subject"].removeprefix("Re: "), argv[2] if len(argv) > 2 else "",
             m["Message-ID"], m.get("References"))
    elif argv == ["read"]:
        for i, m in enumerate(inbox(), 1):
            print(f"--- {i}: {m['Date']}  From: {m['From']}  Subject: {m['Subject']}")
            print(m.get_body(preferencelist=("plain",)).get_content().rstrip())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
