"""The public verification page: one HTML document, Chinese first and English second, no script
and no external assets (a phone opening a QR's link gets everything in one response; the
console of issue 9 restyles it later). Every value is escaped: names and numbers come from
strangers' input and from the register.
"""

from __future__ import annotations

from html import escape

from services.certificates.domain.verification_answer import VerificationAnswer

PAGE_PATH = "/verify"

# The page carries a name and a masked ID number: no caching anywhere, no referrer to whatever
# the visitor opens next (a /C/ URL holds the sealed name), no framing, nothing fetched.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:40rem;margin:1.5rem auto;padding:0 1rem;
color:#222}
h1{font-size:1.3rem}h2{font-size:1.1rem}
.en{color:#555;font-size:.9em}
.answer{border:2px solid #888;padding:.8rem 1rem;margin:1rem 0;border-radius:.4rem}
.valid{border-color:#2a7a2a}.voided,.lost,.refused,.expired{border-color:#b02020}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}
label{display:block;margin:.4rem 0}input{font-size:1rem;padding:.3rem;width:100%;box-sizing:border-box}
button{font-size:1rem;padding:.4rem 1rem;margin-top:.4rem}
"""


def _both(zh: str, en: str) -> str:
    return f'{escape(zh)} <span class="en">{escape(en)}</span>'


def _answer_html(result: VerificationAnswer) -> str:
    parts = [
        f'<section class="answer {escape(result.state)}" role="status">',
        f"<h2>{_both(result.message_zh, result.message)}</h2>",
    ]
    certificate = result.certificate
    if certificate is not None:
        rows = [
            ("证书编号", "Number", certificate.number),
            ("证书类别", "Kind", certificate.kind_zh),
            ("姓名", "Name", certificate.name),
            ("身份证号", "ID number", certificate.id_number_masked),
            ("学校", "School", certificate.school_name),
            ("毕（结）业", "Outcome", certificate.outcome_zh),
            ("毕业年份", "Year", str(certificate.graduating_year)),
            ("发证日期", "Issued on", certificate.issued_on.isoformat()),
        ]
        if certificate.replaced_by:
            rows.append(("替代的学历证明书", "Replaced by", certificate.replaced_by))
        if certificate.replaces:
            rows.append(("替代的原证书", "Replaces", certificate.replaces))
        parts.append("<dl>")
        parts += [f"<dt>{_both(zh, en)}</dt><dd>{escape(value)}</dd>" for zh, en, value in rows]
        parts.append("</dl>")
    parts.append("</section>")
    return "".join(parts)


def _forms() -> str:
    return f"""
<form method="post" action="{PAGE_PATH}">
<h2>{_both("按证书编号和姓名查询", "By certificate number and name")}</h2>
<label>{_both("证书编号", "Certificate number")}
<input name="number" required maxlength="60" autocomplete="off" inputmode="numeric"></label>
<label>{_both("姓名", "Name")}<input name="name" required maxlength="100" autocomplete="off"></label>
<button type="submit">查询 Verify</button>
</form>
<form method="post" action="{PAGE_PATH}">
<h2>{_both("按验证码查询", "By verification code")}</h2>
<label>{_both("毕业生提供的验证码", "Code the graduate gave you")}
<input name="code" required maxlength="20" autocomplete="off"></label>
<button type="submit">查询 Verify</button>
</form>"""


def verification_page(
    result: VerificationAnswer | None = None, *, notice: tuple[str, str] | None = None
) -> str:
    """The page: an answer (if any) above the two forms; ``notice`` for a refusal such as a rate
    limit, given in both languages."""
    body = []
    if notice is not None:
        body.append(f'<section class="answer refused" role="alert"><h2>{_both(*notice)}</h2></section>')
    if result is not None:
        body.append(_answer_html(result))
    body.append(_forms())
    heading = _both("中等职业学校毕业证书查询验证", "Verify a secondary vocational school certificate")
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>毕业证书查询验证 Certificate verification</title><style>{_STYLE}</style></head><body>"
        f"<h1>{heading}</h1>" + "".join(body) + "</body></html>"
    )
