"""libsrtp (through Debian's pylibsrtp) as a reference peer for SRTP tests and benches.

Run with /usr/bin/python3. Reads one JSON request on stdin and writes one JSON reply on stdout:

  {"profile": "AES_CM_128_HMAC_SHA1_80" | "AES_CM_128_HMAC_SHA1_32", "key": HEX(master key || master salt),
   "windowSize": 128, "ops": [{"op": "protect" | "protect_rtcp" | "unprotect" | "unprotect_rtcp", "data": HEX}, ...]}
  -> {"libsrtp": VERSION, "results": [{"data": HEX} | {"error": TEXT}, ...]}

"protect*" ops run on an outbound session and "unprotect*" ops on an inbound one (both keyed alike), in order, so
a sequence of ops is one stream's life. With "bench": {"packets": [HEX...], "rounds": N} instead of "ops", it
times protect and unprotect of those RTP packets (fresh sessions each round) and replies with nanoseconds per
round for each way of calling libsrtp (see run_bench).
"""

import json
import sys
import time

import pylibsrtp

PROFILES = {
    "AES_CM_128_HMAC_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    "AES_CM_128_HMAC_SHA1_32": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
}


def sessions(request):
    key = bytes.fromhex(request["key"])
    profile = PROFILES[request["profile"]]
    window = int(request.get("windowSize", 128))

    def session(ssrc_type):
        policy = pylibsrtp.Policy(key=key, ssrc_type=ssrc_type, srtp_profile=profile)
        policy.window_size = window
        return pylibsrtp.Session(policy=policy)

    return session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND), session(pylibsrtp.Policy.SSRC_ANY_INBOUND)


def run_ops(request):
    tx, rx = sessions(request)
    calls = {
        "protect": tx.protect,
        "protect_rtcp": tx.protect_rtcp,
        "unprotect": rx.unprotect,
        "unprotect_rtcp": rx.unprotect_rtcp,
    }
    results = []
    for op in request["ops"]:
        try:
            results.append({"data": calls[op["op"]](bytes.fromhex(op["data"])).hex()})
        except pylibsrtp.Error as error:
            results.append({"error": str(error)})
    return {"pylibsrtp": pylibsrtp.__version__, "results": results}


def run_bench(request):
    """Per round, fresh sessions, then: pylibsrtp's protect/unprotect as a Python caller sees them, and libsrtp's
    srtp_protect/srtp_unprotect called through cffi on one reused buffer, beside the same loop with the call left
    out (copying the packet in) so the difference is libsrtp's own work."""
    packets = [bytes.fromhex(p) for p in request["bench"]["packets"]]
    ffi, lib = pylibsrtp.ffi, pylibsrtp.lib
    timings = {name: [] for name in ("pylibsrtpProtect", "pylibsrtpUnprotect", "rawProtect", "rawUnprotect", "copyOnly")}
    for _ in range(int(request["bench"]["rounds"])):
        tx, rx = sessions(request)
        start = time.process_time_ns()
        protected = [tx.protect(p) for p in packets]
        timings["pylibsrtpProtect"].append(time.process_time_ns() - start)
        start = time.process_time_ns()
        for p in protected:
            rx.unprotect(p)
        timings["pylibsrtpUnprotect"].append(time.process_time_ns() - start)

        tx, rx = sessions(request)
        buffer = ffi.new("unsigned char[]", 2048)
        view = ffi.buffer(buffer)
        length = ffi.new("int *")
        protect, unprotect = lib.srtp_protect, lib.srtp_unprotect
        tx_session, rx_session = tx._srtp[0], rx._srtp[0]
        start = time.process_time_ns()
        for p in packets:
            n = len(p)
            view[0:n] = p
            length[0] = n
            if protect(tx_session, buffer, length):
                raise RuntimeError("srtp_protect failed")
        timings["rawProtect"].append(time.process_time_ns() - start)
        start = time.process_time_ns()
        for p in protected:
            n = len(p)
            view[0:n] = p
            length[0] = n
            if unprotect(rx_session, buffer, length):
                raise RuntimeError("srtp_unprotect failed")
        timings["rawUnprotect"].append(time.process_time_ns() - start)
        start = time.process_time_ns()
        for p in packets:
            n = len(p)
            view[0:n] = p
            length[0] = n
            if n < 0:
                raise RuntimeError("unreachable")
        timings["copyOnly"].append(time.process_time_ns() - start)
    return {"count": len(packets), **timings}


def main():
    request = json.load(sys.stdin)
    reply = run_bench(request) if "bench" in request else run_ops(request)
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    main()
