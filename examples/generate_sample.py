#!/usr/bin/env python3
"""Generate the bms2intune sample tenant under examples/sample-tenant/.

Deterministic: a fixed seed and a fixed "export date", python3 standard library only, so running
it again rewrites every file byte for byte. The files use the real export formats described in
../shared/research/formats.md (see examples/sample-tenant/README.md for the scenario):

  users.csv          Microsoft 365 admin center "Export users" (variant B headers, UTF-8 BOM, CRLF)
  groups.csv         Entra admin center "Download groups" (camelCase headers)
  group-members.csv  group members in long format: one row per (group, member); one nested group
  products.csv       the tenant's products with seats (Get-MgSubscribedSku | Export-Csv)
  licenses.csv       per-user license assignments with disabled service plans (Graph script export)
  devices.csv        Intune admin center "All devices" export (53 columns) of the BMS devices
  policies.json      the BMS policy bundle (HELPERS.md contract 1), as Export-BmsDevicePolicy writes it

and examples/sample-workbook/contoso.xlsx: the same data as one Excel workbook (sheets Users, Groups,
Members, Products, Licenses, Devices, Policies; the policies as a spreadsheet, one row per policy).

Usage: python3 examples/generate_sample.py [--out DIR] [--workbook FILE] [--check]
  --check   regenerate into a temporary directory and fail if anything differs from DIR.
"""

import argparse
import csv
import filecmp
import io
import json
import os
import random
import sys
import tempfile
import uuid
import zipfile
from datetime import datetime, timedelta

SEED = 20261120
EXPORT_DATE = datetime(2026, 11, 20, 9, 30, 0)  # when the admin "ran the exports"
DOMAIN = "contoso.com"
ONMS = "contoso.onmicrosoft.com"

USERS_HEADERS = [
    "Display name", "DirSyncEnabled", "User principal name", "Object Id", "First name",
    "Last name", "When created", "Soft deletion time stamp", "Title", "Department",
    "Preferred data location", "City", "CountryOrRegion", "Office", "StateOrProvince",
    "Usage location", "Last dirsync time", "Block credential", "Licenses",
    "Password never expires", "Last password change time stamp", "Mobile Phone",
    "Phone number", "Postal code", "Preferred language", "Street address", "Fax",
    "Proxy addresses",
]

GROUPS_HEADERS = [
    "id", "displayName", "description", "groupTypes", "membershipRule", "securityEnabled",
    "mailEnabled", "mail", "onPremisesSyncEnabled", "createdDateTime",
]

MEMBERS_HEADERS = [
    "groupId", "groupDisplayName", "id", "userPrincipalName", "displayName", "userType",
    "memberType",
]

# As `Get-MgSubscribedSku | Select-Object SkuPartNumber, SkuId, @{n="Product";...},
#   @{n="EnabledUnits";e={$_.PrepaidUnits.Enabled}}, ConsumedUnits | Export-Csv` writes it (all quoted).
PRODUCTS_HEADERS = ["SkuPartNumber", "SkuId", "Product", "EnabledUnits", "ConsumedUnits"]

DEVICES_HEADERS = [
    "Device ID", "Device name", "Enrollment date", "Last check-in", "Azure AD Device ID",
    "OS version", "Azure AD registered", "EAS activation ID", "Serial number", "Manufacturer",
    "Model", "EAS activated", "IMEI", "Last EAS sync time", "EAS reason", "EAS status",
    "Compliance grace period expiration", "Security patch level", "Wi-Fi MAC", "MEID",
    "Subscriber carrier", "Total storage", "Free storage", "Management name", "Category",
    "UserId", "Primary user UPN", "Primary user email address", "Primary user display name",
    "WiFiIPv4Address", "WiFiSubnetID", "Compliance", "Managed by", "Ownership", "Device state",
    "Intune registered", "Supervised", "Encrypted", "OS", "SkuFamily", "JoinType",
    "Phone number", "Jailbroken", "ICCID", "EthernetMAC", "CellularTechnology",
    "ProcessorArchitecture", "EID", "SystemManagementBIOSVersion", "TPMManufacturerId",
    "TPMManufacturerVersion", "ProductName", "Management certificate expiration date",
]

# Friendly product names exactly as Microsoft's licensing CSV (Product_Display_Name) spells them.
PRODUCTS = {
    "ENTERPRISEPACK": ("6fd2c87f-b296-42f0-b197-1e91e994b900", "Office 365 E3"),
    "DESKLESSPACK": ("4b585984-651b-448a-9e53-3b10f069cf7f", "Office 365 F3"),
    "SPE_E3": ("05e9a617-0261-4cee-bb44-138d3ef5d965", "Microsoft 365 E3"),
    "SPE_E5": ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "Microsoft 365 E5"),
    "EMS": ("efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "Enterprise Mobility + Security E3"),
    "EXCHANGESTANDARD": ("4b9405b0-7788-4568-add1-99614e613b69", "Exchange Online (Plan 1)"),
    "VISIOCLIENT": ("c5928f49-12ba-48f7-ada3-0d743a3601d5", "Visio Plan 2"),
    "FLOW_FREE": ("f30db892-07e9-47e9-837c-80727f46fd3d", "Microsoft Power Automate Free"),
    "Microsoft_365_Copilot": ("639dec6b-bb19-468b-871c-c5c441c4b0cb",
                              "Microsoft Copilot for Microsoft 365"),
}
DELETED_GROUP = "5f0c2a61-93d4-4c57-8e0b-2d7f1b9a6c40"
INTUNE_PRODUCTS = {"SPE_E3", "SPE_E5", "EMS"}
# Seats bought on top of what is consumed today, for the products without Intune.
SPARE = {"ENTERPRISEPACK": 14, "DESKLESSPACK": 5, "EXCHANGESTANDARD": 3, "VISIOCLIENT": 1,
         "FLOW_FREE": 9990, "Microsoft_365_Copilot": 4, "SPE_E3": 5, "SPE_E5": 0}
# EMS E3 was bought for the migration: free seats = users still to migrate + this margin.
EMS_MARGIN = 3

OFFICES = [
    # office, city, country, usage location, state, postal code, street, phone prefix, language
    ("Seattle HQ", "Seattle", "United States", "US", "WA", "98101", "1 Contoso Way",
     "+1 206 555 ", "en-US"),
    ("London", "London", "United Kingdom", "GB", "", "EC2V 7HH", "20 Gresham Street",
     "+44 20 7946 ", "en-GB"),
    ("Munich", "München", "Germany", "DE", "Bavaria", "80335", "Marsstraße 12",
     "+49 89 2190 ", "de-DE"),
    ("Paris", "Paris", "France", "FR", "", "75008", "18 rue de Londres", "+33 1 7099 ", "fr-FR"),
    ("Sydney", "Sydney", "Australia", "AU", "NSW", "2000", "100 George Street",
     "+61 2 5550 ", "en-AU"),
]

DEPARTMENTS = [
    # department, head count, titles
    ("Sales", 64, ["Account Executive", "Sales Manager", "Inside Sales Representative"]),
    ("Marketing", 24, ["Marketing Specialist", "Product Marketing Manager"]),
    ("Finance", 22, ["Accountant", "Financial Analyst", "Controller"]),
    ("Human Resources", 12, ["HR Business Partner", "Recruiter"]),
    ("IT", 18, ["Systems Administrator", "Service Desk Analyst", "Cloud Engineer"]),
    ("Engineering", 46, ["Software Engineer", "Test Engineer", "Engineering Manager"]),
    ("Legal", 8, ["Counsel", "Paralegal"]),
    ("Customer Support", 34, ["Support Engineer", "Support Team Lead"]),
    ("Field Service", 56, ["Field Technician", "Service Dispatcher"]),
    ("Executive", 6, ["Chief Executive Officer", "Chief Financial Officer",
                      "Chief Operating Officer", "VP Sales", "VP Engineering",
                      "Chief Information Officer"]),
]

FIRST = ["Adele", "Alex", "Allan", "Amara", "Ana", "Anders", "Ben", "Bianca", "Carlos", "Chen",
         "Chloé", "Christie", "Daniel", "Debra", "Diego", "Elena", "Emily", "Enrico", "Fatima",
         "Felix", "Grace", "Hannah", "Henrietta", "Hiro", "Isaiah", "Ivan", "Jana", "Johanna",
         "Jonas", "Joni", "Julia", "Karim", "Kenji", "Lara", "Lee", "Léa", "Lidia", "Lucas",
         "Lynne", "Maja", "Marek", "Megan", "Miriam", "Nestor", "Nina", "Noah", "Olivia", "Omar",
         "Patti", "Pradeep", "Priya", "Rafael", "Raul", "Sakura", "Samuel", "Sanjay", "Sofia",
         "Stefan", "Tomás", "Valentina", "Wei", "Yara", "Zoë"]
LAST = ["Adams", "Bauer", "Becker", "Brown", "Chen", "Costa", "Dubois", "Fischer", "García",
        "Gupta", "Hansen", "Ito", "Jensen", "Kim", "Klein", "Kowalski", "Larsen", "Lefèvre",
        "Li", "Martin", "Meyer", "Moreau", "Müller", "Nakamura", "Nguyen", "Novak", "O'Brien",
        "Patel", "Peters", "Rossi", "Schmidt", "Schneider", "Silva", "Singh", "Smith", "Sato",
        "Tanaka", "Taylor", "Thomas", "Varga", "Wagner", "Walker", "Weber", "Wilson", "Young",
        "Zimmermann"]

ASCII = str.maketrans({"é": "e", "è": "e", "ë": "e", "á": "a", "à": "a", "í": "i", "ó": "o",
                       "ú": "u", "ü": "ue", "ö": "oe", "ä": "ae", "ß": "ss", "'": ""})


class Gen:
    def __init__(self):
        self.rng = random.Random(SEED)

    def guid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def when(self, start, end):
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(span))

    def hexstr(self, n):
        return "".join(self.rng.choice("0123456789ABCDEF") for _ in range(n))

    def digits(self, n):
        return "".join(self.rng.choice("0123456789") for _ in range(n))


def us_time(d, seconds):
    """US-locale date and time as Entra writes them (8/19/2021 1:25:31 PM), on any OS."""
    hour = d.hour % 12 or 12
    clock = f"{hour}:{d.minute:02d}" + (f":{d.second:02d}" if seconds else "")
    return f"{d.month}/{d.day}/{d.year} {clock} {'AM' if d.hour < 12 else 'PM'}"


def admin_date(d):
    return d.strftime("%Y-%m-%d %H:%M:%SZ")


def intune_date(d):
    return d.strftime("%Y-%m-%d %H:%M:%S.") + "%07d" % (d.microsecond * 10)


def build(g):
    """Return the whole tenant as plain Python structures (users, groups, members, ...)."""
    users = []
    seen = set()

    def add_user(first, last, dept, title, office, **kw):
        base = f"{first}.{last}".lower().translate(ASCII).replace(" ", "")
        upn, n = f"{base}@{DOMAIN}", 2
        while upn in seen:
            upn, n = f"{base}{n}@{DOMAIN}", n + 1
        upn = kw.pop("upn", upn)
        seen.add(upn)
        u = dict(first=first, last=last, display=f"{first} {last}", upn=upn, id=g.guid(),
                 dept=dept, title=title, office=office, usage=office[3], enabled=True,
                 licenses=["ENTERPRISEPACK"], guest=False, synced=g.rng.random() < 0.7,
                 created=g.when(datetime(2017, 1, 1), datetime(2026, 6, 1)))
        u.update(kw)
        users.append(u)
        return u

    for dept, count, titles in DEPARTMENTS:
        for i in range(count):
            if dept == "Field Service":
                office = OFFICES[i % 3]  # frontline in Seattle, London, Munich
            else:
                office = OFFICES[g.rng.choices(range(5), weights=[45, 20, 15, 10, 10])[0]]
            title = titles[i] if dept == "Executive" else g.rng.choice(titles)
            add_user(g.rng.choice(FIRST), g.rng.choice(LAST), dept, title, office)

    by_dept = {}
    for u in users:
        by_dept.setdefault(u["dept"], []).append(u)

    # Licensing: O365 E3 for office staff, F3 for frontline, Intune-capable suites for some.
    for u in by_dept["Field Service"]:
        u["licenses"] = ["DESKLESSPACK"]
    it = by_dept["IT"]
    for u in it[:5]:
        u["licenses"] = ["SPE_E3"]
    for u in it[5:8]:  # the " + " inside the EMS name is the classic split trap
        u["licenses"] = ["ENTERPRISEPACK", "EMS"]
    for u in by_dept["Executive"]:
        u["licenses"] = ["SPE_E5", "Microsoft_365_Copilot"]
    # An admin switched Intune off inside one Microsoft 365 E3 assignment: not Intune-licensed.
    it[4]["disabled"] = {"SPE_E3": ["INTUNE_A"]}
    for u in by_dept["Engineering"][:6]:
        u["licenses"] = ["ENTERPRISEPACK", "VISIOCLIENT"]
    for u in by_dept["Engineering"]:
        u["disabled"] = {"ENTERPRISEPACK": ["YAMMER_ENTERPRISE", "SWAY"]}
    for u in by_dept["Marketing"][:9]:
        u["licenses"] = ["ENTERPRISEPACK", "FLOW_FREE"]

    # Accounts that are not people.
    svc = OFFICES[0]
    add_user("Scanner", "Seattle", "", "", svc, licenses=[], synced=False,
             upn=f"scanner.sea@{DOMAIN}")
    add_user("Reception", "London", "", "", OFFICES[1], licenses=["EXCHANGESTANDARD"],
             synced=False, upn=f"reception.lon@{DOMAIN}")
    add_user("Conference Room", "Rainier", "", "", svc, licenses=["EXCHANGESTANDARD"],
             synced=False, upn=f"room.rainier@{DOMAIN}")
    add_user("Sync", "Service", "IT", "", svc, licenses=[], synced=True,
             upn=f"svc.aadsync@{DOMAIN}")
    # Guests (B2B): unlicensed, in no group, no devices.
    for first, last, home in [("Anna", "Berg", "fabrikam.com"), ("Ravi", "Kumar", "tailspintoys.com"),
                              ("Mette", "Olsen", "northwindtraders.com"),
                              ("James", "Carter", "adatum.com")]:
        add_user(first, last, "", "", OFFICES[0], licenses=[], guest=True, synced=False,
                 upn=f"{first.lower()}.{last.lower()}_{home}#EXT#@{ONMS}", usage="",
                 mail=f"{first.lower()}.{last.lower()}@{home}")

    # Left the company but not yet removed: sign-in blocked (one still has a BMS device).
    for u in [by_dept["Sales"][58], by_dept["Customer Support"][29], by_dept["Engineering"][39],
              by_dept["Marketing"][23]]:
        u["enabled"] = False

    # Usage location never set (synced accounts whose attribute was not mapped).
    for u in [by_dept["Sales"][41], by_dept["Finance"][20], by_dept["Customer Support"][27]]:
        u["usage"] = ""

    # ---- groups
    def group(name, desc, sec=True, mail=False, synced=False):
        return dict(id=g.guid(), name=name, desc=desc, sec=sec, mail=mail, synced=synced,
                    members=[], created=g.when(datetime(2018, 1, 1), datetime(2025, 1, 1)))

    G = {}
    for key, name, desc in [
        ("mobile", "BMS Mobile Users", "Users whose phones are managed by Basic Mobility and Security"),
        ("field", "Field Service Team", "Frontline technicians (nested in BMS Mobile Users)"),
        ("ioscorp", "iOS Corporate Devices", "Owners of company-issued iPhones and iPads"),
        ("saleslegacy", "Sales Legacy Devices", "Old sales policy group, kept for reference"),
        ("contractors", "Contractors Mobile", "Contractor phones (no contractors at the moment)"),
        ("pilot", "BMS Pilot", "Test group for the Intune migration"),
        ("exclusions", "Device Access Exclusions", "Excluded from BMS access control"),
        ("engineering", "Engineering", "All engineering staff"),
        ("itadmins", "IT Admins", "IT department"),
    ]:
        G[key] = group(name, desc)
    G["engineering"]["synced"] = True
    G["itadmins"]["synced"] = True

    def members(key, us):
        for u in us:
            if ("user", u["upn"]) not in G[key]["members"]:
                G[key]["members"].append(("user", u["upn"]))

    mobile = (by_dept["Sales"] + by_dept["Marketing"] + by_dept["Finance"]
              + by_dept["Human Resources"] + by_dept["Legal"] + by_dept["Customer Support"]
              + by_dept["IT"][:15])
    members("mobile", mobile)
    G["mobile"]["members"].append(("group", "field"))  # the nested group
    members("field", by_dept["Field Service"])
    ioscorp = (by_dept["Executive"] + by_dept["Sales"][:30] + by_dept["IT"][:4]
               + by_dept["Legal"][:4])
    members("ioscorp", ioscorp)
    members("saleslegacy", by_dept["Sales"][40:52])
    pilot = by_dept["IT"][8:15] + [by_dept["Sales"][5], by_dept["Customer Support"][3],
                                   by_dept["Finance"][2]]
    members("pilot", pilot)
    members("exclusions", by_dept["Executive"][:3])
    members("engineering", by_dept["Engineering"])
    members("itadmins", by_dept["IT"])

    # ---- devices: owned by the users BMS manages (policy targets), ~1.3 per user
    in_bms = {}
    for key in ("mobile", "ioscorp"):
        for kind, ref in G[key]["members"]:
            if kind == "user":
                in_bms[ref] = True
    for kind, ref in G["field"]["members"]:
        in_bms[ref] = True
    owners = [u for u in users if u["upn"] in in_bms]

    devices = []

    def device(owner, os_name, version, model, maker, **kw):
        d = dict(owner=owner, os=os_name, version=version, model=model, maker=maker, **kw)
        devices.append(d)
        return d

    ios_new = ["16.7.10", "17.5.1", "17.6.1", "17.7.2", "18.1.1", "18.3.2", "18.6.2", "26.1"]
    android_new = ["10", "11", "12", "13", "14", "15", "16"]
    iphones = ["iPhone 12", "iPhone 13", "iPhone 14", "iPhone 15", "iPhone 15 Pro", "iPhone 16",
               "iPhone SE (3rd generation)"]
    androids = [("Samsung", "SM-S911B"), ("Samsung", "SM-A546B"), ("Google", "Pixel 7"),
                ("Google", "Pixel 8a"), ("Motorola", "moto g84 5G"), ("Samsung", "SM-G991B")]
    unsupported_only = set()
    special = {}
    # Users whose only device is unsupported (they lose BMS settings when licensed).
    for u, spec in [(by_dept["Sales"][33], ("iOS", "15.8.3", "iPhone 7", "Apple")),
                    (by_dept["Finance"][9], ("iOS", "12.5.7", "iPhone 6", "Apple")),
                    (by_dept["Field Service"][10], ("Android", "9", "SM-J600F", "Samsung")),
                    (by_dept["Field Service"][22], ("Android", "8.1.0", "Nokia 3.1", "HMD Global")),
                    (by_dept["Customer Support"][14], ("Windows Phone", "8.10.14226.359",
                                                       "Lumia 640 LTE", "Microsoft")),
                    (by_dept["Legal"][6], ("Windows", "6.3.9600.20778", "Surface 2",
                                           "Microsoft"))]:
        special[u["upn"]] = [spec]
        unsupported_only.add(u["upn"])
    # Users with an old device next to a supported one.
    for u, spec in [(by_dept["Sales"][12], ("iOS", "15.7.9", "iPhone 8", "Apple")),
                    (by_dept["Marketing"][4], ("iOS", "14.8.1", "iPhone X", "Apple")),
                    (by_dept["Human Resources"][3], ("Android", "7.0", "SM-G930F", "Samsung"))]:
        special[u["upn"]] = [spec, ("iOS", "18.3.2", "iPhone 15", "Apple")]
    # One desktop enrolled through BMS (supported: Windows 10 desktop).
    special[by_dept["IT"][9]["upn"]] = [("iOS", "18.1.1", "iPhone 14", "Apple"),
                                        ("Windows", "10.0.19045.5131", "Latitude 7420", "Dell Inc.")]

    for u in owners:
        if u["upn"] in special:
            for os_name, ver, model, maker in special[u["upn"]]:
                device(u, os_name, ver, model, maker)
            continue
        if not u["enabled"] and u is not by_dept["Sales"][58]:
            continue  # departed users' phones were wiped; one is still there
        n = 1 + (g.rng.random() < 0.3)
        for _ in range(n):
            frontline = u["dept"] == "Field Service"
            if g.rng.random() < (0.55 if frontline else 0.7):
                if g.rng.random() < 0.1:
                    device(u, "iPadOS", g.rng.choice(ios_new[2:]), "iPad Air (5th generation)",
                           "Apple")
                else:
                    device(u, "iOS", g.rng.choice(ios_new), g.rng.choice(iphones), "Apple")
            else:
                maker, model = g.rng.choice(androids)
                device(u, "Android", g.rng.choice(android_new), model, maker)
    # A phone whose owner is no longer in the directory.
    ghost = dict(upn=f"m.keller@{DOMAIN}", display="Martin Keller", id=g.guid())
    device(ghost, "iOS", "17.5.1", "iPhone 13", "Apple")

    # ---- seats: EMS E3 bought for the migration, tight but enough
    def intune_licensed(u):
        return any(p in INTUNE_PRODUCTS and "INTUNE_A" not in u.get("disabled", {}).get(p, [])
                   for p in u["licenses"])

    targeted = set()

    def expand(key, out):
        for kind, ref in G[key]["members"]:
            if kind == "user":
                out.add(ref)
            else:
                expand(ref, out)

    for key in ("mobile", "ioscorp", "saleslegacy", "contractors"):
        expand(key, targeted)
    owner_upns = {d["owner"]["upn"] for d in devices}
    by_upn = {u["upn"]: u for u in users}
    to_migrate = sorted(upn for upn in targeted | owner_upns
                        if upn in by_upn and not intune_licensed(by_upn[upn]))
    consumed = {p: 0 for p in PRODUCTS}
    for u in users:
        for p in u["licenses"]:
            consumed[p] += 1
    enabled = {p: consumed[p] + SPARE.get(p, 0) for p in PRODUCTS}
    # Someone holding an Intune product with the plan disabled needs it enabled, not a new seat.
    need_seat = [upn for upn in to_migrate
                 if not any(p in INTUNE_PRODUCTS for p in by_upn[upn]["licenses"])]
    free_other = sum(enabled[p] - consumed[p] for p in INTUNE_PRODUCTS if p != "EMS")
    enabled["EMS"] = consumed["EMS"] + len(need_seat) - free_other + EMS_MARGIN
    products = [dict(part=p, sku=PRODUCTS[p][0], name=PRODUCTS[p][1], enabled=enabled[p],
                     consumed=consumed[p]) for p in PRODUCTS]

    facts = dict(to_migrate=len(to_migrate), need_seat=len(need_seat),
                 seats_available=sum(enabled[p] - consumed[p] for p in INTUNE_PRODUCTS),
                 unsupported_only=sorted(unsupported_only), pilot=[u["upn"] for u in pilot])
    return users, G, devices, products, facts


def write_csv(path, headers, rows, bom=True, quote_all=False):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n",
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(headers)
    w.writerows(rows)
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        f.write(buf.getvalue())


def users_rows(g, users):
    for u in users:
        off = u["office"]
        phone = off[7] + g.digits(4)
        cc = off[7].split(" ")[0]
        mobile = "" if g.rng.random() < 0.3 else f"{cc} {g.digits(3)} {g.digits(3)} {g.digits(4)}"
        if u["guest"]:
            lic, proxies = "Unlicensed", f"SMTP:{u['mail']}"
            phone = mobile = ""
        else:
            names = [PRODUCTS[p][1] for p in u["licenses"]]
            lic = "+".join(names) if names else "Unlicensed"
            local = u["upn"].split("@")[0]
            proxies = f"SMTP:{u['upn']}+smtp:{local}@{ONMS}"
        pwd = g.when(datetime(2025, 6, 1), EXPORT_DATE)
        yield [
            u["display"], "True" if u["synced"] else "", u["upn"], u["id"], u["first"],
            u["last"], admin_date(u["created"]), "", u["title"], u["dept"], "",
            "" if u["guest"] else off[1], "" if u["guest"] else off[2],
            "" if u["guest"] else off[0], "" if u["guest"] else off[4], u["usage"],
            admin_date(EXPORT_DATE - timedelta(minutes=g.rng.randrange(5, 40)))
            if u["synced"] else "",
            "False" if u["enabled"] else "True", lic,
            "True" if u["upn"].startswith(("scanner", "room.", "svc.")) else "False",
            admin_date(pwd), mobile, phone, "" if u["guest"] else off[5],
            "" if u["guest"] else off[8], "" if u["guest"] else off[6], "", proxies,
        ]


def groups_rows(G):
    for key in sorted(G, key=lambda k: G[k]["name"].lower()):
        gr = G[key]
        yield [gr["id"], gr["name"], gr["desc"], "", "", "True", "False", "",
               "True" if gr["synced"] else "", us_time(gr["created"], seconds=True)]


def members_rows(G, users):
    by_upn = {u["upn"]: u for u in users}
    for key in sorted(G, key=lambda k: G[k]["name"].lower()):
        gr = G[key]
        for kind, ref in gr["members"]:
            if kind == "group":
                sub = G[ref]
                yield [gr["id"], gr["name"], sub["id"], "", sub["name"], "", "Group"]
            else:
                u = by_upn[ref]
                yield [gr["id"], gr["name"], u["id"], u["upn"], u["display"],
                       "Guest" if u["guest"] else "Member", "User"]


def devices_rows(g, devices):
    carriers = ["Verizon", "T-Mobile", "AT&T", "Vodafone UK", "EE", "Telekom.de", "Orange F",
                "Telstra"]
    for d in devices:
        o = d["owner"]
        os_name, ver = d["os"], d["version"]
        enrolled = g.when(datetime(2020, 1, 1), datetime(2026, 9, 1))
        checkin = EXPORT_DATE - timedelta(seconds=g.rng.randrange(600, 9 * 86400))
        mobile_os = os_name in ("iOS", "iPadOS", "Android", "Windows Phone")
        first = o["display"].split(" ")[0]
        short = {"iOS": "iPhone", "iPadOS": "iPad", "Android": "Android",
                 "Windows Phone": "WindowsPhone", "Windows": "Windows"}[os_name]
        name = (f"{first}{o['display'].split(' ')[-1].translate(ASCII)}_{short}_"
                f"{enrolled.month}/{enrolled.day}/{enrolled.year}_{us_time(enrolled, seconds=False).split(' ', 1)[1]}")
        if os_name == "Windows" and ver.startswith("10."):
            name = "CON-" + g.hexstr(7)
        compliant = "Compliant" if g.rng.random() < 0.88 else "Noncompliant"
        encrypted = "True" if os_name in ("iOS", "iPadOS") or g.rng.random() < 0.8 else "False"
        yield [
            g.guid(), name, intune_date(enrolled), intune_date(checkin), g.guid(), ver, "True",
            g.hexstr(32) if mobile_os else "", g.hexstr(12 if d["maker"] == "Apple" else 11),
            d["maker"], d["model"], "True" if mobile_os else "False",
            g.digits(15) if os_name != "Windows" else "",
            intune_date(checkin - timedelta(minutes=g.rng.randrange(1, 300))) if mobile_os else "",
            "", "", "9999-12-31 23:59:59.9999999",
            f"2024-{g.rng.randrange(1, 13):02d}-01" if os_name == "Android" else "",
            ":".join(g.hexstr(2) for _ in range(6)).lower(), "",
            g.rng.choice(carriers) if mobile_os else "",
            str(g.rng.choice([64, 128, 256]) * 1024), str(g.rng.randrange(2000, 60000)), "", "",
            o["id"], o["upn"], o["upn"], o["display"], "", "", compliant, "MDM/EAS",
            "Corporate" if os_name in ("iPadOS", "Windows") or g.rng.random() < 0.45
            else "Personal",
            "Managed", "False", "True" if os_name in ("iOS", "iPadOS") and g.rng.random() < 0.3
            else "False", encrypted, os_name, "", "Azure AD registered", "",
            "True" if (os_name == "Android" and ver == "9") else "False",
            g.digits(19) if mobile_os else "", "", "", "", "", "", "", "", "",
            "0001-01-01 00:00:00.0000000",
        ]


LICENSES_HEADERS = ["UserPrincipalName", "SkuId", "SkuPartNumber", "DisabledPlans"]


def licenses_rows(users):
    """One row per assigned product, as a Get-MgUser/AssignedLicenses script exports them."""
    for u in users:
        for p in u["licenses"]:
            yield [u["upn"], PRODUCTS[p][0], p, ";".join(u.get("disabled", {}).get(p, []))]


def timespan(minutes):
    ticks = minutes * 60 * 10_000_000
    return {"Ticks": ticks, "Days": 0, "Hours": minutes // 60, "Milliseconds": 0,
            "Microseconds": 0, "Nanoseconds": 0, "Minutes": minutes % 60, "Seconds": 0,
            "TotalDays": minutes / 1440, "TotalHours": minutes / 60,
            "TotalMilliseconds": float(minutes * 60000), "TotalMicroseconds": float(minutes * 60000000),
            "TotalNanoseconds": float(minutes * 60000000000), "TotalMinutes": float(minutes),
            "TotalSeconds": float(minutes * 60)}


RULE_SETTINGS = [
    "AccountName", "AccountUserName", "AllowAppStore", "AllowAssistantWhileLocked",
    "AllowConvenienceLogon", "AllowDiagnosticSubmission", "AllowiCloudBackup",
    "AllowiCloudDocSync", "AllowiCloudPhotoSync", "AllowPassbookWhileLocked", "AllowScreenshot",
    "AllowSimplePassword", "AllowVideoConferencing", "AllowVoiceAssistant", "AllowVoiceDialing",
    "AntiVirusSignatureStatus", "AntiVirusStatus", "AppsRating", "AutoUpdateStatus",
    "BluetoothEnabled", "CameraEnabled", "EmailAddress", "EnableRemovableStorage",
    "ExchangeActiveSyncHost", "FirewallStatus", "ForceAppStorePassword", "ForceEncryptedBackup",
    "MaxPasswordAttemptsBeforeWipe", "MaxPasswordGracePeriod", "MoviesRating",
    "PasswordComplexity", "PasswordExpirationDays", "PasswordHistoryCount",
    "PasswordMinComplexChars", "PasswordMinimumLength", "PasswordQuality", "PasswordRequired",
    "PasswordTimeout", "PhoneMemoryEncrypted", "RegionRatings", "RequireEmailProfile",
    "SmartScreenEnabled", "SystemSecurityTLS", "TVShowsRating", "UserAccountControlStatus",
    "WLANEnabled", "WorkFoldersSyncUrl",
]


def ms_date(d):
    return "/Date(%d)/" % int((d - datetime(1970, 1, 1)).total_seconds() * 1000)


def policies(g, G):
    def pol(name, comment, enabled, ptype, created):
        guid = g.guid()
        return {"Name": name, "Comment": comment, "Enabled": enabled, "Mode": "Enforce",
                "Type": ptype, "Workload": "Intune", "DistributionStatus": "Success",
                "Priority": 0, "Guid": guid, "Identity": guid, "Id": guid,
                "WhenCreatedUTC": ms_date(created),
                "WhenChangedUTC": ms_date(created + timedelta(days=40)), "IsValid": True,
                "ObjectState": "Unchanged"}

    def rule(p, groups, ca, **settings):
        rguid = g.guid()
        r = {"Name": f"{p['Name']}{{{rguid}}}", "Identity": f"{p['Name']}{{{rguid}}}",
             "Guid": rguid, "Policy": p["Guid"], "Disabled": not p["Enabled"],
             "Mode": "Enforce", "Priority": 0, "Workload": "Intune",
             "TargetGroups": [G[k]["id"] if k in G else k for k in groups]}
        keys = RULE_SETTINGS + (["AllowJailbroken"] if ca else [])
        for k in sorted(keys):
            r[k] = settings.pop(k, None)
        assert not settings, settings
        r["IsValid"] = True
        r["ObjectState"] = "Unchanged"
        return r

    secure = pol("Secure mobile access",
                 "Block access from phones that don't meet the password and encryption bar",
                 True, "DeviceConditionalAccess", datetime(2021, 3, 8, 14, 2, 11))
    legacy = pol("Sales legacy phones", "Old sales policy; replaced by Secure mobile access",
                 False, "DeviceConditionalAccess", datetime(2019, 10, 1, 9, 12, 40))
    ios = pol("Corporate iPhone settings", "Company-issued iOS devices: backups, app store, mail",
              True, "DeviceConfiguration", datetime(2022, 5, 17, 8, 45, 3))
    contractors = pol("Contractor phones", "Allow and report for contractors", True,
                      "DeviceConfiguration", datetime(2023, 2, 2, 16, 20, 55))

    ca_rules = [
        rule(secure, ["mobile"], True, PasswordRequired=True, AllowSimplePassword=False,
             PasswordMinimumLength=6, PasswordTimeout="00:15:00",
             MaxPasswordAttemptsBeforeWipe=10, PasswordExpirationDays=90,
             PasswordHistoryCount=5, PhoneMemoryEncrypted=True, AllowJailbroken=False),
        rule(legacy, ["saleslegacy"], True, PasswordRequired=True, PasswordMinimumLength=4,
             PasswordTimeout="00:05:00", AllowJailbroken=False),
    ]
    cfg_rules = [
        rule(ios, ["ioscorp"], False, ForceEncryptedBackup=True, AllowiCloudBackup=False,
             AllowiCloudDocSync=False, AllowiCloudPhotoSync=True, AllowScreenshot=False,
             AllowAppStore=True, ForceAppStorePassword=True, AllowDiagnosticSubmission=False,
             AppsRating=300, PasswordTimeout=timespan(5),
             RequireEmailProfile=True, AccountName="Office 365 email",
             ExchangeActiveSyncHost="outlook.office365.com"),
        # The second target group was deleted from Entra long ago: its GUID resolves to nothing.
        rule(contractors, ["contractors", DELETED_GROUP], False, PasswordRequired=True,
             PasswordMinimumLength=6, CameraEnabled=True),
    ]
    tenant_rule = {
        "Name": "Deviceae58d7e9-4e1d-4b48-a7e3-4d0a6b5c5a11",
        "Identity": "Deviceae58d7e9-4e1d-4b48-a7e3-4d0a6b5c5a11",
        "Policy": g.guid(), "ApplyPolicyTo": "ExchangeOnline", "BlockUnsupportedDevices": False,
        "ExclusionList": [G["exclusions"]["id"]], "Mode": "Enforce", "Workload": "Intune",
    }
    return {
        "bms2intune": "bms-policies", "version": 1,
        "DeviceConditionalAccessPolicy": [secure, legacy],
        "DeviceConditionalAccessRule": ca_rules,
        "DeviceConfigurationPolicy": [ios, contractors],
        "DeviceConfigurationRule": cfg_rules,
        # ConvertTo-Json of a single object gives an object, not an array.
        "DeviceTenantRule": tenant_rule,
    }


def generate(out, workbook=None):
    os.makedirs(out, exist_ok=True)
    g = Gen()
    users, G, devices, products, facts = build(g)
    # Every random draw happens once, in this order; the workbook reuses the same rows.
    sheets = [
        ("Users", USERS_HEADERS, list(users_rows(g, users))),
        ("Groups", GROUPS_HEADERS, list(groups_rows(G))),
        ("Members", MEMBERS_HEADERS, list(members_rows(G, users))),
        ("Products", PRODUCTS_HEADERS,
         [[p["part"], p["sku"], p["name"], p["enabled"], p["consumed"]] for p in products]),
        ("Licenses", LICENSES_HEADERS, list(licenses_rows(users))),
        ("Devices", DEVICES_HEADERS, list(devices_rows(g, devices))),
    ]
    bundle = policies(g, G)
    for (name, headers, rows), (file, bom, quote_all) in zip(sheets, [
            ("users.csv", True, False), ("groups.csv", True, False),
            ("group-members.csv", True, False), ("products.csv", False, True),
            ("licenses.csv", False, True), ("devices.csv", True, False)]):
        write_csv(os.path.join(out, file), headers, rows, bom=bom, quote_all=quote_all)
    with open(os.path.join(out, "policies.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(bundle, f, indent=2, ensure_ascii=False)
        f.write("\n")
    if workbook:
        os.makedirs(os.path.dirname(workbook), exist_ok=True)
        write_workbook(workbook, sheets + [policy_sheet(bundle)])
    stats = dict(users=len(users), groups=len(G),
                 memberships=sum(len(gr["members"]) for gr in G.values()),
                 devices=len(devices), products=len(products), **facts)
    return stats


def policy_sheet(bundle):
    """The policies as an admin's spreadsheet: one row per policy, one column per setting."""
    rules = bundle["DeviceConditionalAccessRule"] + bundle["DeviceConfigurationRule"]
    meta = {"Name", "Identity", "Guid", "Policy", "Disabled", "Mode", "Priority", "Workload",
            "TargetGroups", "IsValid", "ObjectState"}
    used = sorted({k for r in rules for k, v in r.items() if v is not None and k not in meta})
    rows = []
    for kind, pkey, rkey in [("Block", "DeviceConditionalAccessPolicy", "DeviceConditionalAccessRule"),
                             ("Allow", "DeviceConfigurationPolicy", "DeviceConfigurationRule")]:
        for pol in bundle[pkey]:
            rule = next(r for r in bundle[rkey] if r["Policy"] == pol["Guid"])
            row = [pol["Name"], kind, pol["Enabled"], pol["Comment"], ";".join(rule["TargetGroups"])]
            for k in used:
                v = rule.get(k)
                if isinstance(v, dict) and "Ticks" in v:  # a TimeSpan: Excel keeps it as a time
                    v = Duration(v["Ticks"] / 864_000_000_000)
                elif isinstance(v, str) and len(v) == 8 and v[2] == ":" and v[5] == ":":
                    h, m, sec = (int(x) for x in v.split(":"))
                    v = Duration((h * 3600 + m * 60 + sec) / 86400)
                row.append("" if v is None else v)
            rows.append(row)
    return ("Policies", ["Name", "Type", "Enabled", "Comment", "TargetGroups"] + used, rows)


class Duration(float):
    """A time-of-day fraction Excel shows as hh:mm:ss (number format 21)."""


def excel_value(v):
    """What Excel makes of a CSV cell it opens: True/False become booleans, plain numbers
    numbers (up to 15 digits; longer ones would lose digits), everything else stays text."""
    if isinstance(v, (bool, int, float)):
        return v
    if v in ("True", "False"):
        return v == "True"
    if v.isdigit() and len(v) <= 15 and not (len(v) > 1 and v[0] == "0"):
        return int(v)
    return v


def col_name(k):
    s = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        s = chr(65 + r) + s
    return s


def write_workbook(path, sheets):
    """A minimal, valid .xlsx (shared strings, booleans, numbers, one time format, frozen header
    rows), stored uncompressed with fixed timestamps so that it regenerates byte for byte."""
    from xml.sax.saxutils import escape, quoteattr
    sst, sst_list, total = {}, [], 0
    parts = {}
    for n, (name, headers, rows) in enumerate(sheets, 1):
        last = col_name(len(headers) - 1)
        out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               f'<dimension ref="A1:{last}{len(rows) + 1}"/>'
               '<sheetViews><sheetView workbookViewId="0"' + (' tabSelected="1"' if n == 1 else "")
               + '><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
               '</sheetView></sheetViews><sheetData>']
        for r, values in enumerate([headers] + rows, 1):
            cells = []
            for c, v in enumerate(values):
                ref = f"{col_name(c)}{r}"
                v = v if r == 1 else excel_value(v)
                if v == "" or v is None:
                    continue
                if isinstance(v, bool):
                    cells.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
                elif isinstance(v, Duration):
                    cells.append(f'<c r="{ref}" s="1"><v>{repr(float(v))}</v></c>')
                elif isinstance(v, (int, float)):
                    cells.append(f'<c r="{ref}"><v>{v}</v></c>')
                else:
                    total += 1
                    if v not in sst:
                        sst[v] = len(sst_list)
                        sst_list.append(v)
                    cells.append(f'<c r="{ref}" t="s"><v>{sst[v]}</v></c>')
            out.append(f'<row r="{r}">' + "".join(cells) + "</row>")
        out.append(f'</sheetData><autoFilter ref="A1:{last}{len(rows) + 1}"/></worksheet>')
        parts[f"xl/worksheets/sheet{n}.xml"] = "".join(out)
    ns = "http://schemas.openxmlformats.org"
    rel = f"{ns}/officeDocument/2006/relationships"
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="{ns}/spreadsheetml/2006/main" count="{total}" uniqueCount="{len(sst_list)}">'
        + "".join(f'<si><t xml:space="preserve">{escape(t)}</t></si>' for t in sst_list)
        + "</sst>")
    parts["xl/workbook.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets>'
        + "".join(f'<sheet name={quoteattr(s[0])} sheetId="{i}" r:id="rId{i}"/>'
                  for i, s in enumerate(sheets, 1))
        + "</sheets></workbook>")
    k = len(sheets)
    parts["xl/_rels/workbook.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{ns}/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, k + 1))
        + f'<Relationship Id="rId{k + 1}" Type="{rel}/styles" Target="styles.xml"/>'
        + f'<Relationship Id="rId{k + 2}" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        + "</Relationships>")
    parts["xl/styles.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<styleSheet xmlns="{ns}/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        '</cellStyles></styleSheet>')
    ct = f"{ns}/package/2006/content-types"
    sheet_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{ct}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{sheet_ct}.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                      f'ContentType="{sheet_ct}.worksheet+xml"/>' for i in range(1, k + 1))
            + f'<Override PartName="/xl/styles.xml" ContentType="{sheet_ct}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{sheet_ct}.sharedStrings+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"),
        **parts,
    }
    with zipfile.ZipFile(path, "w") as z:
        for name, body in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 20, 9, 30, 0))
            info.compress_type = zipfile.ZIP_STORED  # no zlib: identical bytes everywhere
            info.external_attr = 0o644 << 16
            z.writestr(info, body.encode("utf-8"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "sample-tenant"))
    ap.add_argument("--workbook", default=os.path.join(here, "sample-workbook", "contoso.xlsx"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if a.check:
        with tempfile.TemporaryDirectory() as tmp:
            wb = os.path.join(tmp, "wb", os.path.basename(a.workbook))
            generate(os.path.join(tmp, "t"), wb)
            names = sorted(os.listdir(os.path.join(tmp, "t")))
            _, mismatch, errors = filecmp.cmpfiles(a.out, os.path.join(tmp, "t"), names,
                                                   shallow=False)
            if not os.path.exists(a.workbook) or not filecmp.cmp(a.workbook, wb, shallow=False):
                mismatch.append(a.workbook)
            if mismatch or errors:
                print(f"differs from the generator: {mismatch + errors}", file=sys.stderr)
                return 1
            print(f"ok: {len(names) + 1} files match")
            return 0
    stats = generate(a.out, a.workbook)
    print(json.dumps(stats, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
