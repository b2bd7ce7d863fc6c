"""libsrtp (through Debian's pylibsrtp) as a reference peer for SRTP tests and benches.

Run with /usr/bin/python3. Reads one JSON request on stdin and writes one JSON reply on stdout:

  {"profile": "AES_CM_128_HMAC_SHA1_80" | "AES_CM_128_HMAC_SHA1_32", "key": HEX(master key || master salt),
   "windowSize": 128, "ops": [{"op": "protect" | "protect_rtcp" | "unprotect" | "unprotect_rtcp", "data": HEX}, ...]}
  -> {"libsrtp": VERSION, "results": [{"data": HEX} | {"error": TEXT}, ...]}

"protect*" ops run on an outbound session and "unprotect*" ops on an inbound one (both keyed alike), in order, so
a sequence of ops is one stream's life. With "bench": {"packets": [HEX...], "rounds": N} instead of "ops", it
times protect and unprotect of those RTP packets (fresh sessions each round) and replies
{"protectNs": [..per round..], "unprotectNs": [..], "count": len(packets)}.
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
    packets = [bytes.fromhex(p) for p in request["bench"]["packets"]]
    protect_ns, unprotect_ns = [], []
    for _ in range(int(request["bench"]["rounds"])):
        tx, rx = sessions(request)
        protect = tx.protect
        unprotect = rx.unprotect
        start = time.perf_counter_ns()
        protected = [protect(p) for p in packets]
        protect_ns.append(time.perf_counter_ns() - start)
        start = time.perf_counter_ns()
        for p in protected:
            unprotect(p)
        unprotect_ns.append(time.perf_counter_ns() - start)
    return {"protectNs": protect_ns, "unprotectNs": unprotect_ns, "count": len(packets)}


def main():
    request = json.load(sys.stdin)
    reply = run_bench(request) if "bench" in request else run_ops(request)
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    main()
