"""Generate docs/rulings.md from the policy's annotations and cases: ``python docs/gen_rulings.py > docs/rulings.md``."""

from __future__ import annotations

from fuchi.drafting.cases import load_cases
from fuchi.policy import default_policy_dir, load_policy

TITLES = {
    "W1": "比较用语 Comparison words: 以上 ≥, 不高于/不超过/最高 ≤, 超 >, 突破 >",
    "W2": "精确小数 Exact decimals: no binary floats",
    "W3": "金额 Money: exact, rounded down to the yuan, per record where the text says so, 0…10¹² yuan",
    "E1": "准入 Gate: Chongming, industry division 65, finance, credit, direction",
    "E2": "弄虚作假 Fraud → disqualified",
    "E3": "违反统一大市场 Market rules → excluded",
    "T1": "有效期 Window 2026–2027, payable Y+1",
    "T2": "一次性 One-time items, used up by prior awards or an earlier window year",
    "T3": "年度上限 Annual caps",
    "I1": "配套 Matching items",
    "I2": "百强 Honours",
    "I3": "首次突破 First crossing",
    "I4": "增速 Growth",
    "I5": "从高 Highest tier",
    "I6": "算力项目 Compute projects",
    "I7": "芯片 Chips",
    "I8": "研发 R&D",
    "I9": "活动 Events",
    "I10": "展示中心 Showcase centres",
    "P1": "综合评估 Assessment",
    "P2": "不重复 No duplication (3.4)",
    "P3": "状态 Statuses and their order",
}


def main() -> None:
    policy = load_policy(default_policy_dir())
    cases = load_cases(policy)
    out = [
        "# 裁定落实 How each ruling is implemented and pinned",
        "",
        "Each ruling — how the project settles an ambiguous phrase of the measures, titled below — is cited by id",
        "beside the rules that implement it (`%@ ruling:`",
        "in `policy/chongming-digital-2025/rules/*.lp`), in `parameters.yaml`, and by the policy cases that pin",
        "it (`rulings:` in `policy/chongming-digital-2025/cases/*.yaml`, run by `fuchi test` and by pytest).",
        "Generated from those annotations: `python docs/gen_rulings.py > docs/rulings.md`.",
        "",
    ]
    for rid, title in TITLES.items():
        rules = [r for r in policy.rules if rid in r.rulings]
        params = [p for p in policy.parameters.values() if rid in p.rulings]
        pinned = [c for c in cases if rid in c.rulings]
        out += [f"## {rid} — {title}", ""]
        out.append("- 规则 rules: " + (", ".join(f"`{r.id}` ({r.file}:{r.line})" for r in rules) or "—"))
        if params:
            out.append("- 参数 parameters: " + ", ".join(f"`{p.name}`" for p in params))
        examples = "; ".join(f"“{c.name}”" for c in pinned[:3])
        out.append(f"- 用例 cases: {len(pinned)}" + (f" — e.g. {examples}" if pinned else ""))
        out.append("")
    print("\n".join(out).rstrip())


if __name__ == "__main__":
    main()
