"""``qosym report``: a region's figures from the insights API as a PDF (matplotlib PdfPages), in Russian, Kazakh or
English. The fonts are matplotlib's bundled DejaVu Sans (it covers Kazakh and Russian Cyrillic), embedded as
TrueType so the text stays searchable and copyable."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Qosym: отчёт по региону",
        "period": "Период",
        "freshness": "Данные на",
        "summary": "Сводка",
        "applications": "Заявки",
        "awards": "Ваучеры",
        "waitlisted": "Лист ожидания",
        "seats": "Места",
        "unmet": "Неудовлетворённый спрос",
        "demand": "Спрос и места по районам",
        "district": "Район",
        "direction": "Направление",
        "activation": "Активация ваучеров",
        "enrolled": "Зачислены",
        "attended": "Посещали",
        "retention": "Удержание по программам",
        "programme": "Программа",
        "months": "мес.",
        "equity": "Равенство доступа: доля категорий",
        "category": "Категория",
        "applicant_share": "Доля заявителей",
        "voucher_share": "Доля ваучеров",
        "below": "Ниже региона",
        "yes": "да",
        "no": "нет",
        "budget": "Бюджет",
        "budget_total": "Бюджет региона",
        "committed": "Обязательства",
        "accrued": "Начислено",
        "paid": "Выплачено",
        "forecast": "Прогноз на конец года",
        "attendance": "Подтверждение посещаемости",
        "confirmation_rate": "Доля подтверждённых",
        "dispute_rate": "Доля оспоренных",
        "waiting": "Дней от заявки до первого занятия (медиана)",
        "tenge": "тыс. ₸",
        "none": "нет данных",
    },
    "kk": {
        "title": "Qosym: өңір бойынша есеп",
        "period": "Кезең",
        "freshness": "Деректер уақыты",
        "summary": "Жиынтық",
        "applications": "Өтінімдер",
        "awards": "Ваучерлер",
        "waitlisted": "Күту парағы",
        "seats": "Орындар",
        "unmet": "Қанағаттандырылмаған сұраныс",
        "demand": "Аудандар бойынша сұраныс пен орындар",
        "district": "Аудан",
        "direction": "Бағыт",
        "activation": "Ваучерлерді белсендіру",
        "enrolled": "Қабылданды",
        "attended": "Қатысты",
        "retention": "Бағдарламалар бойынша сақталу",
        "programme": "Бағдарлама",
        "months": "ай",
        "equity": "Қолжетімділік теңдігі: санаттар үлесі",
        "category": "Санат",
        "applicant_share": "Өтініш берушілер үлесі",
        "voucher_share": "Ваучерлер үлесі",
        "below": "Өңірден төмен",
        "yes": "иә",
        "no": "жоқ",
        "budget": "Бюджет",
        "budget_total": "Өңір бюджеті",
        "committed": "Міндеттемелер",
        "accrued": "Есептелді",
        "paid": "Төленді",
        "forecast": "Жыл соңына болжам",
        "attendance": "Қатысуды растау",
        "confirmation_rate": "Расталған үлесі",
        "dispute_rate": "Дауланған үлесі",
        "waiting": "Өтінімнен алғашқы сабаққа дейінгі күндер (медиана)",
        "tenge": "мың ₸",
        "none": "дерек жоқ",
    },
    "en": {
        "title": "Qosym: region report",
        "period": "Period",
        "freshness": "Data as of",
        "summary": "Summary",
        "applications": "Applications",
        "awards": "Vouchers",
        "waitlisted": "Waitlist",
        "seats": "Seats",
        "unmet": "Unmet demand",
        "demand": "Demand and seats by district",
        "district": "District",
        "direction": "Direction",
        "activation": "Voucher activation",
        "enrolled": "Enrolled",
        "attended": "Attended",
        "retention": "Retention by programme",
        "programme": "Programme",
        "months": "mo.",
        "equity": "Equity: category shares",
        "category": "Category",
        "applicant_share": "Share of applicants",
        "voucher_share": "Share of vouchers",
        "below": "Below region",
        "yes": "yes",
        "no": "no",
        "budget": "Budget",
        "budget_total": "Region budget",
        "committed": "Committed",
        "accrued": "Accrued",
        "paid": "Paid",
        "forecast": "Year-end forecast",
        "attendance": "Attendance confirmation",
        "confirmation_rate": "Confirmed share",
        "dispute_rate": "Disputed share",
        "waiting": "Days from application to first lesson (median)",
        "tenge": "thousand ₸",
        "none": "no data",
    },
}
FIGURES = ("demand", "activation", "retention", "attendance", "budget", "providers", "time-to-first-lesson", "equity")


class ReportError(RuntimeError):
    pass


def fetch(client: httpx.Client, region: str, period: str) -> dict[str, Any]:
    """Every figure the report draws, from the insights API (the caller's token decides what it may read)."""
    data: dict[str, Any] = {}
    for name in FIGURES:
        params: dict[str, Any] = {}
        if name == "budget":
            params["year"] = int(period[:4])
        response = client.get(f"/v1/insights/regions/{region}/{name}", params=params)
        if response.status_code != 200:
            raise ReportError(f"insights {name}: {response.status_code} {response.text[:300]}")
        data[name] = response.json()
    return data


def _thousands(tiyn: int | None) -> float:
    return (tiyn or 0) / 100 / 1000


def _table(ax: Any, header: list[str], rows: list[list[str]], title: str) -> None:
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=12)
    if not rows:
        ax.text(0.0, 0.9, "—", fontsize=10)
        return
    table = ax.table(cellText=rows, colLabels=header, loc="upper left", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.3)


def write_pdf(data: dict[str, Any], region: str, period: str, lang: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["pdf.fonttype"] = 42  # embed TrueType (searchable, copyable Cyrillic)
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    t = LABELS[lang]
    other = LABELS["kk" if lang == "ru" else "ru"]
    demand = data["demand"]["data"]
    freshness = data["demand"].get("freshness") or t["none"]
    by_district: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in demand:
        for key in ("applications", "awards", "waitlisted", "seats_offered", "unmet_demand"):
            by_district[row["district"]][key] += row[key]
    budget = data["budget"]["data"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with PdfPages(out, metadata={"Title": f"{t['title']} {region} {period}", "Subject": "Qosym insights"}) as pdf:
        # 1. title and summary
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.08, 0.93, f"{t['title']}: {region}", fontsize=18)
        fig.text(0.08, 0.90, f"{other['title']}: {region}", fontsize=12, color="grey")
        fig.text(0.08, 0.87, f"{t['period']} / {other['period']}: {period}", fontsize=11)
        fig.text(0.08, 0.85, f"{t['freshness']}: {freshness}", fontsize=9, color="grey")
        totals = {
            k: sum(v[k] for v in by_district.values())
            for k in ("applications", "awards", "waitlisted", "seats_offered", "unmet_demand")
        }
        rows = [
            [t["applications"], str(totals["applications"])],
            [t["awards"], str(totals["awards"])],
            [t["waitlisted"], str(totals["waitlisted"])],
            [t["seats"], str(totals["seats_offered"])],
            [t["unmet"], str(totals["unmet_demand"])],
            [t["budget_total"] + f", {t['tenge']}", f"{_thousands(budget['budget_tiyn']):,.0f}"],
            [t["committed"] + f", {t['tenge']}", f"{_thousands(budget['committed_tiyn']):,.0f}"],
            [t["accrued"] + f", {t['tenge']}", f"{_thousands(budget['accrued_tiyn']):,.0f}"],
            [t["paid"] + f", {t['tenge']}", f"{_thousands(budget['paid_tiyn']):,.0f}"],
            [t["forecast"] + f", {t['tenge']}", f"{_thousands(budget['forecast_year_end_tiyn']):,.0f}"],
        ]
        waiting = [w for w in data["time-to-first-lesson"]["data"] if w["district"] == "*"]
        if waiting and waiting[0]["median_days"] is not None:
            rows.append([t["waiting"], f"{waiting[0]['median_days']:.0f}"])
        _table(fig.add_axes((0.08, 0.35, 0.84, 0.45)), ["", period], rows, t["summary"])
        pdf.savefig(fig)
        plt.close(fig)

        # 2. demand against seats, activation
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.27, 11.69))
        districts = sorted(by_district)
        x = list(range(len(districts)))
        top.bar([i - 0.2 for i in x], [by_district[d]["applications"] for d in districts], 0.4, label=t["applications"])
        top.bar([i + 0.2 for i in x], [by_district[d]["seats_offered"] for d in districts], 0.4, label=t["seats"])
        top.set_xticks(x, districts)
        top.set_title(t["demand"])
        top.legend()
        activation: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in data["activation"]["data"]:
            for key in ("awarded", "enrolled", "attended"):
                activation[row["district"]][key] += row[key]
        names = sorted(activation)
        x = list(range(len(names)))
        for offset, key, label in (
            (-0.25, "awarded", t["awards"]),
            (0, "enrolled", t["enrolled"]),
            (0.25, "attended", t["attended"]),
        ):
            bottom.bar([i + offset for i in x], [activation[n][key] for n in names], 0.25, label=label)
        bottom.set_xticks(x, names)
        bottom.set_title(t["activation"])
        bottom.legend()
        pdf.savefig(fig)
        plt.close(fig)

        # 3. demand table, retention
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.27, 11.69))
        _table(
            top,
            [t["district"], t["direction"], t["applications"], t["awards"], t["seats"], t["unmet"]],
            [
                [
                    r["district"],
                    r["direction"],
                    str(r["applications"]),
                    str(r["awards"]),
                    str(r["seats_offered"]),
                    str(r["unmet_demand"]),
                ]
                for r in demand
            ][:20],
            t["demand"],
        )
        retention_rows = []
        for r in data["retention"]["data"][:15]:
            rates = ["—" if p["rate"] is None else f"{p['rate']:.0%}" for p in r["points"]]
            retention_rows.append(
                [f"{r['district']}/{r['direction']} {str(r['programme_id'])[:8]}", str(r["enrolments"]), *rates]
            )
        _table(
            bottom,
            [t["programme"], t["enrolled"], f"1 {t['months']}", f"3 {t['months']}", f"6 {t['months']}"],
            retention_rows,
            t["retention"],
        )
        pdf.savefig(fig)
        plt.close(fig)

        # 4. equity
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.27, 11.69))
        equity = data["equity"]["data"]
        categories = [c["category"] for c in equity["region"]]
        x = list(range(len(categories)))
        top.bar(
            [i - 0.2 for i in x], [c["applicant_share"] or 0 for c in equity["region"]], 0.4, label=t["applicant_share"]
        )
        top.bar(
            [i + 0.2 for i in x], [c["voucher_share"] or 0 for c in equity["region"]], 0.4, label=t["voucher_share"]
        )
        top.set_xticks(x, categories)
        top.set_title(t["equity"])
        top.legend()
        rows = [
            [
                d["district"],
                c["category"],
                f"{c['applicant_share'] or 0:.0%}",
                f"{c['voucher_share'] or 0:.0%}",
                t["yes"] if c["below_region"] or d["below_region"] else t["no"],
            ]
            for d in equity["districts"]
            for c in d["categories"]
        ]
        _table(
            bottom,
            [t["district"], t["category"], t["applicant_share"], t["voucher_share"], t["below"]],
            rows[:24],
            t["equity"],
        )
        pdf.savefig(fig)
        plt.close(fig)

        # 5. budget and attendance
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.27, 11.69))
        months = [m["period"] for m in budget["months"]]
        x = list(range(len(months)))
        top.bar(
            [i - 0.2 for i in x], [_thousands(m["accrued_tiyn"]) for m in budget["months"]], 0.4, label=t["accrued"]
        )
        top.bar([i + 0.2 for i in x], [_thousands(m["paid_tiyn"]) for m in budget["months"]], 0.4, label=t["paid"])
        top.set_xticks(x, months)
        top.set_ylabel(t["tenge"])
        top.set_title(
            f"{t['budget']}: {t['forecast']} {_thousands(budget['forecast_year_end_tiyn']):,.0f} {t['tenge']}"
        )
        top.legend()
        rows = [
            [r["period"], str(r["timesheets"]), f"{r['confirmation_rate'] or 0:.0%}", f"{r['dispute_rate'] or 0:.0%}"]
            for r in data["attendance"]["data"]
        ]
        _table(bottom, [t["period"], "#", t["confirmation_rate"], t["dispute_rate"]], rows, t["attendance"])
        pdf.savefig(fig)
        plt.close(fig)
    return out


def build_report(client: httpx.Client, region: str, period: str, lang: str, out: Path) -> Path:
    if lang not in LABELS:
        raise ReportError(f"--lang must be one of: {', '.join(LABELS)}")
    return write_pdf(fetch(client, region, period), region, period, lang, out)
