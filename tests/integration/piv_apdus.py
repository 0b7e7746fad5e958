#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""APDUs per operation of the module on a PIV card, from its own APDU trace.

Usage: piv_apdus.py MODULE PIN TRACEFILE
The module must trace to TRACEFILE (VNP_DEBUG=p11,apdu VNP_DEBUG_FILE=TRACEFILE). Phases are
separated by C_GetInfo calls (no card I/O); each APDU belongs to the C_ call traced after it.
Prints one line per phase: name, APDUs, and the INS bytes sent.
"""
import re
import sys

import PyKCS11

module, pin, trace = sys.argv[1:4]
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
N = 3


def mark():
    lib.getInfo()


# Phase: cold enumeration, as an application does it at start.
slot = lib.getSlotList(tokenPresent=True)[0]
lib.getTokenInfo(slot)
s = lib.openSession(slot)
certs = s.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_CERTIFICATE)])
for c in certs:
    s.getAttributeValue(c, [PyKCS11.CKA_VALUE])
keys = s.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY)])
mark()
s.login(pin)
mark()


def key(idb):
    k = s.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_ID, idb)])
    return k[0]


data = b"vnpki" * 100
rsa = key((0x01,))
for _ in range(N):
    s.sign(rsa, data, PyKCS11.Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS))
mark()
ec = key((0x04,))
for _ in range(N):
    s.sign(ec, data, PyKCS11.Mechanism(PyKCS11.CKM_ECDSA_SHA256))
mark()
ec9c = key((0x02,))


def sign_always_auth(k, mech):
    """C_SignInit, C_Login(CKU_CONTEXT_SPECIFIC), C_Sign (size query, then the signature)."""
    ll = s.lib
    check = PyKCS11.PyKCS11Error
    rv = ll.C_SignInit(s.session, PyKCS11.Mechanism(mech).to_native(), k)
    if rv:
        raise check(rv)
    rv = ll.C_Login(s.session, PyKCS11.CKU_CONTEXT_SPECIFIC, PyKCS11.ckbytelist(pin))
    if rv:
        raise check(rv)
    sig = PyKCS11.ckbytelist()
    for _ in range(2):
        rv = ll.C_Sign(s.session, PyKCS11.ckbytelist(data), sig)
        if rv:
            raise check(rv)


for _ in range(N):
    sign_always_auth(ec9c, PyKCS11.CKM_ECDSA_SHA256)
mark()
s.logout()
s.closeSession()
lib.lib.C_Finalize()

names = ["enumeration (cold)", "C_Login", "C_Sign RSA-2048 (9A)", "C_Sign ECDSA P-256 (9E)",
         "C_Sign ECDSA P-256 (9C, always-authenticate)"]
per = [N if i >= 2 else 1 for i in range(len(names))]
counts = [[] for _ in names]
phase = 0
apdu = re.compile(r" -> ([0-9A-F]{2}) ([0-9A-F]{2})")
with open(trace, encoding="utf-8", errors="replace") as f:
    for line in f:
        if " C_GetInfo(" in line:
            phase += 1
            continue
        m = apdu.search(line)
        if m and phase < len(names):
            counts[phase].append(m.group(2))
for name, c, n in zip(names, counts, per):
    print("%-46s %5.1f APDUs%s  INS: %s" % (name, len(c) / n, " each" if n > 1 else "",
                                           " ".join(c[: 12])))
