#!/usr/bin/env python3
"""
tap-wire.py: a userspace Ethernet cable between two network namespaces, with one-way delay,
jitter and random loss. This kernel has no netem (`tc qdisc ... netem` fails), so the
faulty LAN (tests/helpers/faulty-lan.ts) joins its laptop and phone namespaces with one TAP
device in each and this program in between, moving every frame from one TAP to the other.

Why Python and not TypeScript like the rest: a TAP device is made with the TUNSETIFF ioctl
on /dev/net/tun, and Node has no ioctl() (nor setns()) without a native addon, which could
not be built or downloaded here. Python's standard library has both (fcntl.ioctl, and setns
through os.setns on 3.12+ or ctypes before), so this needs nothing but Debian's `python3`.

How: setns() into namespace A, open /dev/net/tun and TUNSETIFF a TAP named --dev-a (the
device lives in the namespace the file was opened in), the same for B, then back home. The
devices are not persistent: they vanish when this program exits. Addresses, MTU and "up"
are the caller's job (`ip` in each namespace).

Timing model, per direction: a frame read at time t is written to the other TAP at
    release = t + delay + uniform(-jitter, +jitter)
and, by default (--order fifo), never before the previous frame of the same direction:
    release = max(release, previous release)
so frames keep their order, as on WiFi, whose link layer retransmits in order; TCP (the
signaling WebSocket, the page load) then sees delay but no reordering. Under dense traffic
(frames closer together than 2 x jitter) this shifts the delay up towards delay + jitter.
--order reorder releases each frame at its own time: frames may overtake each other.
Loss (--loss-percent) drops a frame with that probability, independently, both directions.

Bounded: at most --queue-cap frames wait per direction; a frame beyond that is dropped and
counted (queue_dropped). At most 256 frames are read per wake-up.

Output (stdout, one JSON object per line):
    {"event": "ready", ...}              once both TAPs are open
    {"event": "stats", ...counters}      on the stdin line "stats", or on SIGUSR1
    {"event": "exit", ...counters}       on stdin EOF (e.g. the parent died), the stdin line
                                         "stop", SIGTERM or SIGINT
Counters, per direction ("a_to_b", "b_to_a"): received, forwarded, loss_dropped,
queue_dropped, write_failed (the far device was down), queued (now), max_queued; and the
timing of the frames queued (`held` of them): the delay drawn for each (delay + uniform
jitter: draw_ms_sum, draw_ms_sumsq), the hold each was given (release - arrival, the draw
moved up by FIFO: hold_ms_sum, hold_ms_min, hold_ms_max), and how late each was written after
its release time (late_ms_sum, late_ms_max). Draws and holds are the wire's model; lateness is
this program waking up late (a busy machine), which the model does not have (and a frame read
late, in a batch with the next, may be held longer by FIFO: so only the draws are the model
whatever the load).
It also asks the kernel for SIGTERM when its parent dies (PR_SET_PDEATHSIG).
Exit status: 0 after a clean stop, 1 when a TAP cannot be made, 2 for bad arguments.
"""

import argparse
import ctypes
import errno
import fcntl
import heapq
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
READ_BATCH = 256
FRAME_MAX = 65536

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def setns(fd):
    if hasattr(os, "setns"):
        os.setns(fd, CLONE_NEWNET)
        return
    if libc().setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def die_with_parent():
    try:
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # stdin EOF still ends us


class Stop(Exception):
    pass


def fail(message, status=1):
    sys.stderr.write(f"tap-wire: {message}\n")
    sys.exit(status)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tap-wire.py",
        description="A userspace Ethernet wire between TAP devices in two network namespaces.",
    )
    parser.add_argument("--netns-a", required=True, help="network namespace of end A, e.g. /proc/PID/ns/net")
    parser.add_argument("--dev-a", required=True, help="TAP device name to make in A")
    parser.add_argument("--netns-b", required=True, help="network namespace of end B")
    parser.add_argument("--dev-b", required=True, help="TAP device name to make in B")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="one-way delay, ms (both directions)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="uniform jitter, +/- ms, at most the delay")
    parser.add_argument("--loss-percent", type=float, default=0.0, help="random frame loss, 0-100")
    parser.add_argument("--order", choices=["fifo", "reorder"], default="fifo", help="keep order per direction?")
    parser.add_argument("--queue-cap", type=int, default=2048, help="most frames waiting per direction")
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible loss and jitter)")
    args = parser.parse_args(argv)
    problems = []
    for name in ("delay_ms", "jitter_ms", "loss_percent"):
        value = getattr(args, name)
        if value != value or value in (float("inf"), float("-inf")):
            problems.append(f"--{name.replace('_', '-')} must be a finite number, got {value}")
    if not problems:
        if args.delay_ms < 0 or args.delay_ms > 10_000:
            problems.append(f"--delay-ms must be 0-10000, got {args.delay_ms:g}")
        if args.jitter_ms < 0:
            problems.append(f"--jitter-ms must be >= 0, got {args.jitter_ms:g}")
        elif args.jitter_ms > args.delay_ms:
            problems.append(
                f"--jitter-ms ({args.jitter_ms:g}) must not exceed --delay-ms ({args.delay_ms:g}): "
                "a frame cannot leave before it arrived"
            )
        if args.loss_percent < 0 or args.loss_percent > 100:
            problems.append(f"--loss-percent must be 0-100, got {args.loss_percent:g}")
    if args.queue_cap < 1 or args.queue_cap > 1_000_000:
        problems.append(f"--queue-cap must be 1-1000000, got {args.queue_cap}")
    for flag, dev in (("--dev-a", args.dev_a), ("--dev-b", args.dev_b)):
        if not dev or len(dev.encode()) > 15 or "/" in dev or any(c.isspace() for c in dev):
            problems.append(f"{flag} must be an interface name of 1-15 characters without '/' or spaces, got {dev!r}")
    if args.netns_a == args.netns_b and args.dev_a == args.dev_b:
        problems.append("the two ends must differ (same namespace and device name)")
    if problems:
        parser.print_usage(sys.stderr)
        for problem in problems:
            sys.stderr.write(f"tap-wire: {problem}\n")
        sys.exit(2)
    return args


def open_tap(netns, dev, home):
    try:
        ns = os.open(netns, os.O_RDONLY)
    except OSError as error:
        fail(f"cannot open network namespace {netns}: {error.strerror}")
    try:
        setns(ns)
    except OSError as error:
        fail(f"cannot enter network namespace {netns}: {error.strerror}")
    finally:
        os.close(ns)
    try:
        tap = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        fail(f"cannot open /dev/net/tun: {error.strerror}")
    try:
        fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH22x", dev.encode(), IFF_TAP | IFF_NO_PI))
    except OSError as error:
        fail(f"cannot make TAP device {dev} in {netns} (TUNSETIFF): {error.strerror}")
    try:
        setns(home)
    except OSError as error:
        fail(f"cannot return to this program's own network namespace: {error.strerror}")
    return tap


def new_counters():
    return {
        "received": 0,
        "forwarded": 0,
        "loss_dropped": 0,
        "queue_dropped": 0,
        "write_failed": 0,
        "queued": 0,
        "max_queued": 0,
        "held": 0,
        "draw_ms_sum": 0.0,
        "draw_ms_sumsq": 0.0,
        "hold_ms_sum": 0.0,
        "hold_ms_min": None,
        "hold_ms_max": None,
        "late_ms_sum": 0.0,
        "late_ms_max": 0.0,
    }


def main(argv):
    args = parse_args(argv)
    die_with_parent()
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    taps = [open_tap(args.netns_a, args.dev_a, home), open_tap(args.netns_b, args.dev_b, home)]
    os.close(home)

    rng = random.Random(args.seed)
    delay = args.delay_ms / 1000.0
    jitter = args.jitter_ms / 1000.0
    loss = args.loss_percent / 100.0
    fifo = args.order == "fifo"
    names = ("a_to_b", "b_to_a")
    counters = [new_counters(), new_counters()]
    last_release = [0.0, 0.0]
    pending = []  # heap of (release time, sequence, direction, frame)
    sequence = 0
    started = time.monotonic()

    def snapshot(event):
        return json.dumps(
            {
                "event": event,
                "seconds": round(time.monotonic() - started, 3),
                names[0]: counters[0],
                names[1]: counters[1],
            }
        )

    def emit(event):
        sys.stdout.write(snapshot(event) + "\n")
        sys.stdout.flush()

    def on_stop(_signum, _frame):
        raise Stop()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    # SIGUSR1 only sets a flag (printing from a handler could interleave with the loop's own
    # output); the wake-up socket makes select() return so the loop prints it at once.
    want_stats = []
    signal.signal(signal.SIGUSR1, lambda _s, _f: want_stats.append(True))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)

    selector = selectors.DefaultSelector()
    selector.register(wake_read, selectors.EVENT_READ, "wake")
    selector.register(taps[0], selectors.EVENT_READ, 0)
    selector.register(taps[1], selectors.EVENT_READ, 1)
    # stdin: commands, and its end (the parent died or let go) stops the wire. A stdin that
    # cannot be polled (/dev/null, a regular file, none) is not watched: then only signals
    # and the parent's death stop it.
    stdin = 0
    try:
        os.set_blocking(stdin, False)
        selector.register(stdin, selectors.EVENT_READ, "stdin")
    except (OSError, ValueError):
        sys.stderr.write("tap-wire: stdin cannot be polled; stop me with SIGTERM\n")
    stdin_buffer = b""

    sys.stdout.write(
        json.dumps(
            {
                "event": "ready",
                "pid": os.getpid(),
                "a": {"netns": args.netns_a, "dev": args.dev_a},
                "b": {"netns": args.netns_b, "dev": args.dev_b},
                "delay_ms": args.delay_ms,
                "jitter_ms": args.jitter_ms,
                "loss_percent": args.loss_percent,
                "order": args.order,
                "queue_cap": args.queue_cap,
            }
        )
        + "\n"
    )
    sys.stdout.flush()

    try:
        while True:
            now = time.monotonic()
            # Release every frame that is due.
            while pending and pending[0][0] <= now:
                release, _, direction, frame = heapq.heappop(pending)
                counter = counters[direction]
                counter["queued"] -= 1
                try:
                    os.write(taps[1 - direction], frame)
                    counter["forwarded"] += 1
                except OSError:
                    counter["write_failed"] += 1  # e.g. EIO: the far device is down
                late_ms = (time.monotonic() - release) * 1000.0
                counter["late_ms_sum"] += late_ms
                counter["late_ms_max"] = max(counter["late_ms_max"], late_ms)
            timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
            for key, _ in selector.select(timeout):
                source = key.data
                if source == "wake":
                    try:
                        wake_read.recv(4096)
                    except BlockingIOError:
                        pass
                    while want_stats:
                        want_stats.pop()
                        emit("stats")
                    continue
                if source == "stdin":
                    try:
                        chunk = os.read(stdin, 4096)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        raise Stop()
                    stdin_buffer = (stdin_buffer + chunk)[-4096:]
                    while b"\n" in stdin_buffer:
                        line, stdin_buffer = stdin_buffer.split(b"\n", 1)
                        command = line.strip().decode(errors="replace")
                        if command == "stats":
                            emit("stats")
                        elif command in ("stop", "quit", "exit"):
                            raise Stop()
                        elif command:
                            sys.stderr.write(f"tap-wire: unknown command {command!r} (stats, stop)\n")
                    continue
                direction = source
                counter = counters[direction]
                for _ in range(READ_BATCH):
                    try:
                        frame = os.read(taps[direction], FRAME_MAX)
                    except BlockingIOError:
                        break
                    except OSError as error:
                        if error.errno in (errno.EAGAIN, errno.EINTR):
                            break
                        raise
                    if not frame:
                        break
                    arrived = time.monotonic()
                    counter["received"] += 1
                    if loss > 0 and rng.random() < loss:
                        counter["loss_dropped"] += 1
                        continue
                    if counter["queued"] >= args.queue_cap:
                        counter["queue_dropped"] += 1
                        continue
                    draw = delay + (rng.uniform(-jitter, jitter) if jitter > 0 else 0.0)
                    release = arrived + draw
                    if fifo:
                        release = max(release, last_release[direction])
                        last_release[direction] = release
                    hold_ms = (release - arrived) * 1000.0
                    counter["held"] += 1
                    counter["draw_ms_sum"] += draw * 1000.0
                    counter["draw_ms_sumsq"] += (draw * 1000.0) ** 2
                    counter["hold_ms_sum"] += hold_ms
                    low, high = counter["hold_ms_min"], counter["hold_ms_max"]
                    counter["hold_ms_min"] = hold_ms if low is None else min(low, hold_ms)
                    counter["hold_ms_max"] = hold_ms if high is None else max(high, hold_ms)
                    sequence += 1
                    heapq.heappush(pending, (release, sequence, direction, frame))
                    counter["queued"] += 1
                    counter["max_queued"] = max(counter["max_queued"], counter["queued"])
    except Stop:
        pass
    except KeyboardInterrupt:
        pass
    emit("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
