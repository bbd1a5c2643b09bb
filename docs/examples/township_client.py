"""A township system's side of the NATS integration (docs/integration.md), with nats-py.

Registers a petition and accepts it through the county inbox, waits for each outcome, and
re-sends the registration to show it is applied once. Then catches up on its outcomes and its
feed through the durable consumers the county keeps for it. The test suite runs this file
against `xinfang up` with township users (tests/system/permissions.rs).

    python3 township_client.py nats://127.0.0.1:4222 gaoqiao USER PASSWORD
"""

import asyncio
import json
import sys

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError


async def outcome(js, township, msg_id, timeout=30.0):
    """The county's outcome for one of our records (kept in the XF_OUTCOMES stream)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            msg = await js.get_last_msg(
                "XF_OUTCOMES", f"xf.outcome.{township}.{msg_id}", direct=True
            )
            return json.loads(msg.data)
        except NotFoundError:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no outcome for {msg_id}")
            await asyncio.sleep(0.1)


async def send(js, township, action, msg_id, body):
    ack = await js.publish(
        f"xf.inbox.{township}.{action}",
        json.dumps(body, ensure_ascii=False).encode(),
        headers={"Nats-Msg-Id": msg_id},
    )
    # Each township's inbox is its own stream, so record ids are deduplicated per township only.
    assert ack.stream == f"XF_INBOX_{township}", ack.stream
    if ack.duplicate:
        # The stream already holds a message with this record id (sent again within its
        # two-minute duplicate window): the answer is that message's outcome.
        pass
    return await outcome(js, township, msg_id)


async def drain(js, stream, consumer):
    """Everything waiting on one of our durable consumers, acknowledged as we go."""
    sub = await js.pull_subscribe_bind(consumer, stream)
    messages = []
    while True:
        try:
            batch = await sub.fetch(100, timeout=1)
        except (NatsTimeout, asyncio.TimeoutError):
            # nats-py raises either, depending on where the wait for the batch ran out.
            return messages
        for msg in batch:
            messages.append(json.loads(msg.data))
            await msg.ack()


async def main(url, township, user, password):
    # Replies (JetStream acks, fetched messages) must arrive under our own inbox prefix: the
    # server lets our user subscribe to nothing else.
    nc = await nats.connect(
        url, user=user, password=password, inbox_prefix=f"_INBOX.{township}"
    )
    js = nc.jetstream()
    registration = {
        "channel": "visit",
        "received_at": "2026-03-02T09:30:00+08:00",
        "headcount": 6,
        "level_reached": "county",
        "category": "land",
        "summary": "Compensation for requisitioned farmland not paid",
        "petitioners": [{"name": "张三", "phone": "13800000000"}],
    }
    registered = await send(js, township, "register", "REC-0001", registration)
    case_id = registered["case_id"]
    accepted = await send(js, township, "accept", "REC-0002",
                          {"case_id": case_id, "occurred_at": "2026-03-03T09:00:00+08:00"})
    # A resync after an outage sends the same record again: answered, not applied twice.
    again = await send(js, township, "register", "REC-0001", registration)
    refused = await send(js, township, "close", "REC-0003", {"case_id": case_id})
    # Catching up after being offline: every outcome, and every event of our cases.
    outcomes = await drain(js, "XF_OUTCOMES", f"outcomes-{township}")
    feed = await drain(js, "XF_FEED", f"feed-{township}")
    print(json.dumps({
        "register": registered["status"],
        "accept": accepted["status"],
        "version": accepted["version"],
        "resend_same_case": again["case_id"] == case_id,
        "close": refused["status"],
        "close_code": refused["error"]["code"],
        "outcomes_read": len({o["msg_id"] for o in outcomes}),
        "feed_events": len(feed),
    }))
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
