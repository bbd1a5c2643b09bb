"""The county's SMS gateway: the one reader of the notices to petitioners (docs/contract.md,
"Notices"), with nats-py and PyNaCl (libsodium).

Each message on XF_NOTIFY is {"notice_id", "case_no", "kind", "sealed"}; `sealed` is base64 of a
libsodium sealed box to the gateway's public key holding {"to", "text"}. The gateway opens it,
sends the text (here: prints it as a JSON line; a real gateway calls its SMS provider there) and
then acknowledges the message, which removes it from the work queue. A notice delivered again
(the gateway died between sending and acknowledging) has the same `notice_id` and is not sent
twice. The test suite runs this file against `xinfang up` (tests/system/notices.rs).

    python3 sms_gateway.py keygen
        prints a new key pair: the secret (keep it with the gateway) and the public key
        (`[notify] public_key` of the county's configuration)
    python3 sms_gateway.py NATS_URL USER PASSWORD SECRET_KEY [--idle SECONDS]
        sends notices until stopped, or until none came for SECONDS; then prints a summary
"""

import asyncio
import base64
import json
import sys

import nats
from nacl.public import PrivateKey, SealedBox
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

STREAM = "XF_NOTIFY"
SUBJECT = "xf.notify.sms"
DURABLE = "sms-gateway"
# The gateway's user may receive replies under this prefix only.
INBOX_PREFIX = "_INBOX.XF_NOTIFY"


def keygen():
    key = PrivateKey.generate()
    print(json.dumps({
        "secret_key": base64.b64encode(bytes(key)).decode(),
        "public_key": base64.b64encode(bytes(key.public_key)).decode(),
    }))


async def subscription(js, timeout=30.0):
    """Our durable pull consumer, made once; waits for the county to make the stream."""
    deadline = asyncio.get_running_loop().time() + timeout
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=60, max_deliver=-1)
    while True:
        try:
            return await js.pull_subscribe(SUBJECT, durable=DURABLE, stream=STREAM, config=config)
        except NotFoundError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


def send_sms(to, text):
    """Where a real gateway hands the text to its SMS provider."""
    print(json.dumps({"to": to, "text": text}, ensure_ascii=False), flush=True)


async def run(url, user, password, secret, idle):
    box = SealedBox(PrivateKey(base64.b64decode(secret)))
    nc = await nats.connect(url, user=user, password=password, inbox_prefix=INBOX_PREFIX)
    js = nc.jetstream()
    sub = await subscription(js)
    sent, repeated, kinds = {}, 0, {}
    quiet = 0.0
    while idle is None or quiet < idle:
        try:
            batch = await sub.fetch(100, timeout=1)
        except (NatsTimeout, asyncio.TimeoutError):
            quiet += 1
            continue
        quiet = 0.0
        for msg in batch:
            notice = json.loads(msg.data)
            if notice["notice_id"] in sent:
                repeated += 1
            else:
                inner = json.loads(box.decrypt(base64.b64decode(notice["sealed"])))
                send_sms(inner["to"], inner["text"])
                sent[notice["notice_id"]] = notice["case_no"]
                kinds[notice["kind"]] = kinds.get(notice["kind"], 0) + 1
            await msg.ack()
    await nc.close()
    print(json.dumps({"sent": len(sent), "repeated": repeated, "kinds": kinds}))


def main(argv):
    if argv[1:2] == ["keygen"]:
        return keygen()
    if len(argv) not in (5, 7):
        sys.exit(__doc__)
    idle = float(argv[6]) if len(argv) == 7 and argv[5] == "--idle" else None
    asyncio.run(run(argv[1], argv[2], argv[3], argv[4], idle))


if __name__ == "__main__":
    main(sys.argv)
