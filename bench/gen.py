#!/usr/bin/env python3
"""Synthetic tenants for the bms2intune benchmark, in the real export formats.

python3 bench/gen.py --users N --out DIR

Writes into DIR (python3 standard library only, deterministic for a given N):
  users.csv          M365 admin center "Export users" (variant B, 28 columns, UTF-8 BOM, CRLF)
  users.xlsx         the same rows as Excel saves them (shared strings, booleans as booleans,
                     postal codes as numbers), sheet "Users"
  groups.csv         Entra "Download groups" (N/10 groups)
  group-members.csv  long format, ~10 memberships per user (10*N rows) plus a few nested groups
  products.csv       SkuPartNumber, SkuId, Product, EnabledUnits, ConsumedUnits
  devices.csv        Intune "All devices" export (53 columns), ~1.3 devices per user
  bms-policies.json  the BMS policy bundle: 3 policies targeting 200 groups
Same headers as examples/sample-tenant (see examples/generate_sample.py).
"""

import argparse
import json
import os
import sys
import time
import zipfile
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import generate_sample as S  # noqa: E402  (headers and product names shared with the sample)

DOMAIN = "contoso.com"
ONMS = "contoso.onmicrosoft.com"
MEMBERS_PER_GROUP = 100  # 10 memberships per user over N/10 groups
PRIME_M = 1_000_003  # membership m -> user (m * PRIME_M) % N: every user exactly 10 times
PRIME_D = 7_919

FIRST = S.FIRST
LAST = S.LAST
DEPTS = [d[0] for d in S.DEPARTMENTS]
TITLES = [t for d in S.DEPARTMENTS for t in d[2]]
OFFICES = S.OFFICES


def guid(kind, i):
    """A GUID-shaped id, unique per (kind, i), fast and deterministic."""
    h = (i * 0x9E3779B97F4A7C15 + kind * 0xC2B2AE3D27D4EB4F) & ((1 << 64) - 1)
    h2 = (h * 0xFF51AFD7ED558CCD + i) & ((1 << 64) - 1)
    s = "%016x%016x" % (h, h2)
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-a{s[17:20]}-{s[20:32]}"


def coprime(p, n):
    while n % p == 0 or p % n == 0:
        p += 2
    return p


def licenses_for(i):
    r = (i * 2654435761) % 1000
    if r < 800:
        return ["ENTERPRISEPACK"]
    if r < 900:
        return ["DESKLESSPACK"]
    if r < 950:
        return ["SPE_E3"]
    if r < 970:
        return ["ENTERPRISEPACK", "EMS"]
    if r < 980:
        return ["ENTERPRISEPACK", "VISIOCLIENT"]
    return []


def user_record(i):
    """The 28 admin-center values of user i, typed (bool / int / str) for the XLSX writer."""
    first = FIRST[i % len(FIRST)]
    last = LAST[(i // len(FIRST)) % len(LAST)]
    guest = i % 100 == 99
    local = f"{first}.{last}".lower().translate(S.ASCII) + str(i)
    if guest:
        upn = f"{local}_fabrikam.com#EXT#@{ONMS}"
    else:
        upn = f"{local}@{DOMAIN}"
    # Mixed case as admins type them: the importer lower-cases.
    if i % 7 == 0:
        upn = upn[0].upper() + upn[1:]
    off = OFFICES[i % len(OFFICES)]
    lic = [] if guest else licenses_for(i)
    lic_s = "+".join(S.PRODUCTS[p][1] for p in lic) if lic else "Unlicensed"
    synced = i % 3 != 0
    year = 2017 + i % 9
    created = f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z"
    usage = "" if (guest or i % 200 == 17) else off[3]
    return [
        f"{first} {last}", True if synced else "", upn, guid(1, i), first, last, created, "",
        TITLES[i % len(TITLES)], DEPTS[i % len(DEPTS)], "", off[1], off[2], off[0], off[4],
        usage, "2026-11-20 09:12:00Z" if synced else "", i % 100 == 42, lic_s, False,
        f"2026-{1 + i % 10:02d}-{1 + i % 27:02d} 10:{i % 60:02d}:00Z",
        f"{off[7].split(' ')[0]} 7{i % 1000:03d} {i % 1000000:06d}", f"{off[7]}{i % 10000:04d}",
        int(off[5]) if off[5].isdigit() else off[5], off[8], off[6], "",
        f"SMTP:{upn.lower()}+smtp:{local}@{ONMS}",
    ]


def csv_cell(v):
    if v is True:
        return "True"
    if v is False:
        return "False"
    s = str(v)
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def write_lines(path, header, rows, bom=True):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="",
              buffering=1 << 20) as f:
        f.write(",".join(header) + "\r\n")
        buf = []
        for r in rows:
            buf.append(r)
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def gen_users_csv(n, out):
    def rows():
        for i in range(n):
            yield ",".join(csv_cell(v) for v in user_record(i)) + "\r\n"
    write_lines(os.path.join(out, "users.csv"), S.USERS_HEADERS, rows())


def col_letters(k):
    s = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        s = chr(65 + r) + s
    return s


XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '</Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '</styleSheet>'),
}


def gen_users_xlsx(n, out):
    """Write users.xlsx the way Excel stores a saved export: a shared-strings table."""
    path = os.path.join(out, "users.xlsx")
    tmp = path + ".tmp"
    cols = [col_letters(k) for k in range(len(S.USERS_HEADERS))]
    sst = {}
    sst_list = []

    def si(s):
        ix = sst.get(s)
        if ix is None:
            ix = sst[s] = len(sst_list)
            sst_list.append(s)
        return ix

    total_strings = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, body in XLSX_STATIC.items():
            z.writestr(name, body)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            w = raw.write
            w(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              + f'<dimension ref="A1:{cols[-1]}{n + 1}"/>'.encode()
              + b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
              b'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>')
            buf = []

            def row(r, values):
                nonlocal total_strings
                cells = []
                for c, v in zip(cols, values):
                    if v == "" or v is None:
                        continue
                    if v is True or v is False:
                        cells.append(f'<c r="{c}{r}" t="b"><v>{int(v)}</v></c>')
                    elif isinstance(v, int):
                        cells.append(f'<c r="{c}{r}"><v>{v}</v></c>')
                    else:
                        total_strings += 1
                        cells.append(f'<c r="{c}{r}" t="s"><v>{si(v)}</v></c>')
                buf.append(f'<row r="{r}">' + "".join(cells) + "</row>")

            row(1, S.USERS_HEADERS)
            for i in range(n):
                row(i + 2, user_record(i))
                if len(buf) >= 5000:
                    w("".join(buf).encode())
                    buf.clear()
            w("".join(buf).encode())
            w(b"</sheetData></worksheet>")
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as raw:
            raw.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                      + f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                        f'count="{total_strings}" uniqueCount="{len(sst_list)}">'.encode())
            for k in range(0, len(sst_list), 10000):
                raw.write("".join(f"<si><t>{escape(s)}</t></si>"
                                  for s in sst_list[k:k + 10000]).encode())
            raw.write(b"</sst>")
    os.replace(tmp, path)


def group_name(g):
    if g == 0:
        return "BMS Mobile Users"
    if g == 1:
        return "BMS Pilot"
    return f"{DEPTS[g % len(DEPTS)]} Team {g:06d}"


def gen_groups(n, out):
    ng = max(n // 10, 10)
    rows = (f"{guid(2, g)},{group_name(g)},Synthetic group {g},,,True,False,,"
            f"{'True' if g % 2 else ''},{1 + g % 12}/{1 + g % 28}/{2018 + g % 7} "
            f"{1 + g % 12}:{g % 60:02d}:{(g * 3) % 60:02d} {'AM' if g % 2 else 'PM'}\r\n"
            for g in range(ng))
    write_lines(os.path.join(out, "groups.csv"), S.GROUPS_HEADERS, rows)
    return ng


def gen_members(n, out, ng):
    p = coprime(PRIME_M, n)
    total = ng * MEMBERS_PER_GROUP
    def rows():
        for g in range(ng):
            gid, gname = guid(2, g), group_name(g)
            prefix = f"{gid},{gname},"
            if g == 0:  # the BMS group nests 50 department groups
                for sub in range(2, min(ng, 52)):
                    yield f"{prefix}{guid(2, sub)},,{group_name(sub)},,Group\r\n"
            for m in range(g * MEMBERS_PER_GROUP, (g + 1) * MEMBERS_PER_GROUP):
                u = (m * p) % n
                rec = user_record_min(u)
                yield f"{prefix}{rec[1]},{rec[0]},{rec[2]},{rec[3]},User\r\n"
    write_lines(os.path.join(out, "group-members.csv"), S.MEMBERS_HEADERS, rows())
    return total


def user_record_min(i):
    """(upn, id, displayName, userType) without building the whole row."""
    first = FIRST[i % len(FIRST)]
    last = LAST[(i // len(FIRST)) % len(LAST)]
    guest = i % 100 == 99
    local = f"{first}.{last}".lower().translate(S.ASCII) + str(i)
    upn = f"{local}_fabrikam.com#EXT#@{ONMS}" if guest else f"{local}@{DOMAIN}"
    return upn, guid(1, i), f"{first} {last}", "Guest" if guest else "Member"


OS_MIX = [  # (weight per 1000, OS, versions, maker, model)
    (520, "iOS", ["16.7.10", "17.5.1", "17.6.1", "18.1.1", "18.3.2", "26.1"], "Apple", "iPhone 15"),
    (40, "iOS", ["15.8.3", "14.8.1"], "Apple", "iPhone 8"),
    (60, "iPadOS", ["17.7.2", "18.3.2"], "Apple", "iPad Air (5th generation)"),
    (330, "Android", ["10", "11", "12", "13", "14", "15"], "Samsung", "SM-S911B"),
    (40, "Android", ["9", "8.1.0"], "Samsung", "SM-J600F"),
    (5, "Windows Phone", ["8.10.14226.359"], "Microsoft", "Lumia 640 LTE"),
    (5, "Windows", ["10.0.19045.5131"], "Dell Inc.", "Latitude 7420"),
]
OS_TABLE = []
for w, *rest in OS_MIX:
    OS_TABLE += [rest] * w


def gen_devices(n, out):
    nd = n * 13 // 10
    q = coprime(PRIME_D, n)
    empty_tail = "," * 10

    def rows():
        for d in range(nd):
            u = (d * q) % n
            upn, uid, display, _ = user_record_min(u)
            if d % 10000 == 4321:
                upn, uid, display = f"former.user{d}@{DOMAIN}", guid(3, d), "Former User"
            os_name, versions, maker, model = OS_TABLE[(d * 37) % 1000]
            ver = versions[d % len(versions)]
            ts = f"2026-{1 + d % 11:02d}-{1 + d % 28:02d} {d % 24:02d}:{d % 60:02d}:{(d * 7) % 60:02d}.0000000"
            yield (f"{guid(4, d)},{display.split(' ')[0]}_{os_name}_{d},{ts},{ts},{guid(5, d)},"
                   f"{ver},True,,SN{d:010d},{maker},{model},True,,,,,"
                   f"9999-12-31 23:59:59.9999999,,,,,,,,,{uid},{upn},{upn},{display},,,"
                   f"{'Compliant' if d % 9 else 'Noncompliant'},MDM/EAS,"
                   f"{'Corporate' if d % 2 else 'Personal'},Managed,False,False,True,{os_name},,"
                   f"Azure AD registered,,False{empty_tail}0001-01-01 00:00:00.0000000\r\n")
    write_lines(os.path.join(out, "devices.csv"), S.DEVICES_HEADERS, rows())
    return nd


def gen_products(n, out):
    consumed = {p: 0 for p in S.PRODUCTS}
    for i in range(n):
        if i % 100 == 99:
            continue
        for p in licenses_for(i):
            consumed[p] += 1
    rows = []
    for p, (sku, name) in S.PRODUCTS.items():
        spare = n if p == "EMS" else n // 50  # enough Intune seats for everyone to migrate
        rows.append(f"{p},{sku},{name},{consumed[p] + spare},{consumed[p]}\r\n")
    write_lines(os.path.join(out, "products.csv"), S.PRODUCTS_HEADERS, rows, bom=False)


def gen_policies(ng, out):
    targets = [guid(2, g) for g in range(0, min(ng, 200))]
    settings = {k: None for k in S.RULE_SETTINGS}

    def rule(name, pguid, groups, ca, **kw):
        r = {"Name": name, "Identity": name, "Policy": pguid, "Disabled": False,
             "TargetGroups": groups}
        r.update(settings)
        if ca:
            r["AllowJailbroken"] = None
        r.update(kw)
        return r

    bundle = {
        "bms2intune": "bms-policies", "version": 1,
        "DeviceConditionalAccessPolicy": [
            {"Name": "Secure mobile access", "Comment": "", "Enabled": True,
             "Guid": guid(6, 1), "Identity": guid(6, 1)}],
        "DeviceConditionalAccessRule": [
            rule("Secure mobile access{%s}" % guid(7, 1), guid(6, 1), targets[:100], True,
                 PasswordRequired=True, PasswordMinimumLength=6, PasswordTimeout="00:15:00",
                 PhoneMemoryEncrypted=True, AllowJailbroken=False)],
        "DeviceConfigurationPolicy": [
            {"Name": "Corporate iPhone settings", "Comment": "", "Enabled": True,
             "Guid": guid(6, 2), "Identity": guid(6, 2)},
            {"Name": "Old settings", "Comment": "", "Enabled": False,
             "Guid": guid(6, 3), "Identity": guid(6, 3)}],
        "DeviceConfigurationRule": [
            rule("Corporate iPhone settings{%s}" % guid(7, 2), guid(6, 2), targets[100:], False,
                 ForceEncryptedBackup=True, AllowScreenshot=False, AppsRating=300),
            rule("Old settings{%s}" % guid(7, 3), guid(6, 3), targets[150:160], False,
                 CameraEnabled=True)],
        "DeviceTenantRule": [],
    }
    with open(os.path.join(out, "bms-policies.json"), "w", encoding="utf-8") as f:
        json.dump(bundle, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-xlsx", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n = a.users
    steps = [("users.csv", lambda: gen_users_csv(n, a.out))]
    if not a.no_xlsx:
        steps.append(("users.xlsx", lambda: gen_users_xlsx(n, a.out)))
    ng = max(n // 10, 10)
    steps += [("groups.csv", lambda: gen_groups(n, a.out)),
              ("group-members.csv", lambda: gen_members(n, a.out, ng)),
              ("devices.csv", lambda: gen_devices(n, a.out)),
              ("products.csv", lambda: gen_products(n, a.out)),
              ("bms-policies.json", lambda: gen_policies(ng, a.out))]
    for name, fn in steps:
        t = time.time()
        fn()
        size = os.path.getsize(os.path.join(a.out, name))
        print(f"  {name:18} {size / 1e6:9.1f} MB  {time.time() - t:6.1f} s", flush=True)


if __name__ == "__main__":
    main()
