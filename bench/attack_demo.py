"""Issue 10's examples, tried as an attacker would against a running demo (`make run`).

    .venv/bin/python bench/attack_demo.py [--api http://127.0.0.1:8000]

Each probe sends what broke the product before and prints what it answers now; the script
exits 1 if any probe is not refused cleanly (a 5xx, an English message, a wrong status). It
creates one dossier of its own (the hotel of the README) and leaves the demo's data alone;
it uses only demo accounts and the demo secret, so it is for demo mode only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt

from accelerator.shared.config import DEMO_SECRET_KEY

HOTEL = {
    "title": "Extension de l'hôtel des Thermes à Cauterets (sonde)",
    "description": "24 chambres de plus",
    "commune_insee": "65138",
    "procedures": ["PC"],
    "attributes": {"public_access_building": True, "near_monument": True},
    "investment_eur": 3_200_000,
    "jobs_created": 12,
}
ENGLISH = ("Input should", "Field required", "There was an error", "Internal Server Error",
           "Not Found", "value is not")  # fmt: skip

results: list[tuple[str, str, bool]] = []


def check(example: str, response: httpx.Response, *expected: int) -> httpx.Response:
    """Record whether ``response`` is a clean refusal with one of ``expected``."""
    text = response.text[:200].replace("\n", " ")
    clean = (
        response.status_code in expected
        and response.status_code < 500
        and not any(word in response.text for word in ENGLISH)
    )
    results.append((example, f"{response.status_code} {text}", clean))
    return response


def record(example: str, what: str, clean: bool) -> None:
    """Record a probe that is not one HTTP answer."""
    results.append((example, what, clean))


def token(client: httpx.Client, email: str) -> dict[str, str]:
    """Bearer headers for a demo account."""
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": "demo"})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    """``total`` bytes of a JSON-looking body, streamed (no Content-Length)."""
    yield b'{"email": "'
    sent = 0
    while sent < total:
        yield b"a" * size
        sent += size


def wait_for(client: httpx.Client, headers: dict[str, str], path: str, test: Any) -> Any:
    """Poll ``path`` until ``test(body)`` holds (the relay works in the background)."""
    deadline = time.monotonic() + 60
    while True:
        body = client.get(path, headers=headers).json()
        if test(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def main() -> int:
    """Run every probe; print a table; 1 if any probe gave way."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    client = httpx.Client(base_url=args.api, timeout=60)
    holder = token(client, "holder@demo.test")
    referent, referent2 = token(client, "referent@demo.test"), token(client, "referent2@demo.test")
    agent = token(client, "agent.udap-65@demo.test")

    # 1. Bodies bounded and read after authentication.
    check("1. anonymous 500 MB POST /auth/token (streamed)",
          client.post("/api/v1/auth/token", content=chunks(500 << 20)), 413)  # fmt: skip
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda _: httpx.post(f"{args.api}/api/v1/auth/token", content=chunks(100 << 20),
                                 timeout=60), range(8)))  # fmt: skip
    record("1. eight parallel 100 MB POSTs", " ".join(str(a.status_code) for a in answers),
           all(a.status_code == 413 for a in answers))  # fmt: skip
    check("1. anonymous 100 MB POST /dossiers",
          client.post("/api/v1/dossiers", content=b"{" + b" " * (100 << 20) + b"}",
                      headers={"Content-Type": "application/json"}), 401)  # fmt: skip
    check("1. anonymous malformed JSON POST /dossiers",
          client.post("/api/v1/dossiers", content=b"{not json",
                      headers={"Content-Type": "application/json"}), 401)  # fmt: skip

    # 2. Webhooks are no server-side request forgery.
    for url in ("http://127.0.0.1:8399/internal/admin", "http://localhost/", "http://[::1]/",
                "http://0.0.0.0/", "http://2130706433/", "https://user:pass@example.org/",
                "https://10.0.0.1/", "https://169.254.169.254/latest/meta-data/"):  # fmt: skip
        check(f"2. subscribe {url}", client.post("/api/v1/webhooks", headers=agent,
              json={"url": url, "events": ["consultation.created"]}), 422)  # fmt: skip

    # 3. Statuses never go backwards.
    dossier = client.post("/api/v1/dossiers", headers=holder, json=HOTEL).json()
    path = f"/api/v1/dossiers/{dossier['id']}"
    client.post(f"{path}/file", headers=holder).raise_for_status()
    wait_for(client, referent, path, lambda d: d.get("referent") is not None)
    client.post(f"{path}/take-charge", headers=referent).raise_for_status()
    client.post(f"{path}/consultations", headers=referent,
                json={"administrations": ["UDAP-65", "SDIS-65"]}).raise_for_status()  # fmt: skip
    body = wait_for(client, referent, path, lambda d: len(d.get("consultations", [])) == 2)
    udap = next(c for c in body["consultations"] if c["administration"] == "UDAP-65")
    client.post(f"{path}/information-requests", headers=referent,
                json={"message": "Plan des façades côté église, svp.",
                      "consultation_id": udap["id"]}).raise_for_status()  # fmt: skip
    check(
        "3. acknowledge a consultation awaiting information",
        client.post(f"/api/v1/consultations/{udap['id']}/acknowledge", headers=agent),
        409,
    )
    client.post(
        f"{path}/information-requests",
        headers=referent,
        json={"message": "Attestation de maîtrise foncière."},
    ).raise_for_status()
    check(
        "3. a second référent takes charge while awaiting the holder",
        client.post(f"{path}/take-charge", headers=referent2),
        409,
    )
    after = client.get(path, headers=referent).json()
    record("3. ... the dossier is unchanged", f"{after['status']}, {after['referent']['email']}",
           after["status"] == "awaiting_holder"
           and after["referent"]["email"] == "referent@demo.test")  # fmt: skip

    # 4. The deadline calculator.
    began = time.monotonic()
    check("4. /between year 1 to 9999 in business hours",
          client.get("/api/v1/between", headers=holder, params={
              "calendar": "FR", "start": "0001-01-01T00:00:00+00:00",
              "end": "9999-12-31T00:00:00+00:00", "unit": "business_hours"}), 422)  # fmt: skip
    record("4. ... answered within a second", f"{time.monotonic() - began:.2f} s",
           time.monotonic() - began < 1)  # fmt: skip
    for start, add in (
        ("9999-12-31T12:00:00+00:00", "1 months"),
        ("2026-06-09T10:00:00+02:00", "100000 months"),
        ("2026-06-09T10:00:00+02:00", "12345678901234567890 business_days"),
    ):
        query = {"calendar": "FR", "start": start, "add": add}
        check(f"4. /deadline start={start} add={add}",
              client.get("/api/v1/deadline", headers=holder, params=query), 422)  # fmt: skip

    # 5. Input that should be refused.
    for label, patch in (("NUL in the title", {"title": "Hôtel\x00"}),
                         ("a control character", {"description": "a\x1bb"}),
                         ("commune 00000", {"commune_insee": "00000"}),
                         ("commune 2A004", {"commune_insee": "2A004"}),
                         ("commune ６５１３８", {"commune_insee": "６５１３８"}),
                         ("true as a number", {"jobs_created": True}),
                         ('"yes" as a boolean', {"attributes": {"near_monument": "yes"}}),
                         ("a 2 MB title", {"title": "x" * 2_000_000})):  # fmt: skip
        check(f"5. {label}", client.post("/api/v1/dossiers", headers=holder,
              json={**HOTEL, **patch}), 413, 422)  # fmt: skip
    raw = httpx.Client(base_url=args.api).post(
        "/api/v1/dossiers", headers={**holder, "Content-Type": "application/json"},
        content=b'{"title": "Infini", "commune_insee": "65138", "procedures": ["PC"], '
        b'"investment_eur": Infinity}')  # fmt: skip
    check("5. Infinity as an amount", raw, 422)
    check("5. offset beyond 64 bits", client.get("/api/v1/dossiers", headers=referent,
          params={"offset": str(2**70)}), 422)  # fmt: skip

    # 6. Sign-in rate-limited.
    victim = f"inconnu-{uuid.uuid4().hex[:6]}@demo.test"
    statuses = [client.post("/api/v1/auth/token",
                            json={"email": victim, "password": "x"}).status_code
                for _ in range(8)]  # fmt: skip
    limited = client.post("/api/v1/auth/token", json={"email": victim, "password": "x"})
    check(f"6. wrong passwords ({' '.join(map(str, statuses))}) then", limited, 429)
    record("6. ... with Retry-After", limited.headers.get("retry-after", "none"),
           limited.headers.get("retry-after", "").isdigit())  # fmt: skip

    # 7. Operations data, errors and tokens.
    check("7. anonymous /metrics", client.get("/metrics"), 401)
    check("7. a holder's /metrics", client.get("/metrics", headers=holder), 403)
    sub = jwt.decode(holder["Authorization"][7:], options={"verify_signature": False})["sub"]
    now = int(dt.datetime.now(dt.UTC).timestamp())
    for label, claims in (
        ("no exp", {"sub": sub, "iat": now}),
        ("exp in 9999", {"sub": sub, "iat": now, "exp": 253370764800}),
    ):
        forged = jwt.encode(claims, DEMO_SECRET_KEY, algorithm="HS256")
        check(f"7. token with {label}", client.get(
            "/api/v1/dossiers", headers={"Authorization": f"Bearer {forged}"}), 401)  # fmt: skip
    unknown = client.get("/api/v1/nowhere")
    check("7/10. unknown route", unknown, 404)
    record("7. ... carries X-Request-ID", unknown.headers.get("x-request-id", "none"),
           bool(unknown.headers.get("x-request-id")))  # fmt: skip

    # 9. Headers and assets.
    answer = client.get("/api/v1/dossiers", headers=holder)
    wanted = ("content-security-policy", "x-content-type-options", "x-frame-options",
              "referrer-policy")  # fmt: skip
    record("9. security headers on an authenticated answer",
           ", ".join(f"{h}={answer.headers.get(h, '—')[:20]}" for h in (*wanted, "cache-control")),
           all(h in answer.headers for h in wanted)
           and "no-store" in answer.headers.get("cache-control", ""))  # fmt: skip
    docs = client.get("/docs").text
    record("9. /docs loads nothing from another host", "cdn" if "cdn" in docs else "local",
           "cdn" not in docs and "https://" not in docs)  # fmt: skip

    # 10. The contract: French messages, the documented shape.
    bad = check("10. a wrong type in a body", client.post("/api/v1/dossiers", headers=holder,
                json={**HOTEL, "procedures": "PC"}), 422)  # fmt: skip
    record("10. ... its shape is {detail, errors}", ",".join(sorted(bad.json())),
           sorted(bad.json()) == ["detail", "errors"])  # fmt: skip

    # 11. What holders see.
    seen = client.get(path, headers=holder).text
    record("11. the holder's view names no agent", "agent." if "agent." in seen else "none",
           "agent." not in seen and "consultation_target" not in seen)  # fmt: skip

    width = max(len(example) for example, _, _ in results)
    for example, what, clean in results:
        print(f"{'ok ' if clean else 'GAVE WAY'} {example:<{width}}  {what[:110]}")
    failed = [example for example, _, clean in results if not clean]
    print(f"\n{len(results) - len(failed)} / {len(results)} probes refused cleanly.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
