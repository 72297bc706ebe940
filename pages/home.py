"""Learner home: continue, reviews due, streak and goal, accuracy per tone over time."""

import reflex as rx

from components.help import nps_prompt
from components.layout import link_button
from components.notices import notice
from components.props import Row, VarOr
from pages.template import template
from sayzhong import routes
from state.home import HomeState
from state.session import SessionState
from state.support import NpsState

TONE_LINES = (
    ("t1", "Tone 1", "blue"),
    ("t2", "Tone 2", "green"),
    ("t3", "Tone 3", "amber"),
    ("t4", "Tone 4", "red"),
)


def _stat(label: str, value: VarOr[int], icon: str) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon(icon, size=22, color=rx.color("accent", 11)),
            rx.vstack(rx.text(value, size="6", weight="bold"), rx.text(label, size="1"), spacing="0"),
            align="center",
            spacing="3",
        ),
        size="2",
    )


def _tone_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["tone"]), rx.table.cell(row["accuracy"]), rx.table.cell(row["count"])
    )


def _pair_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["pair"]), rx.table.cell(row["accuracy"]), rx.table.cell(row["count"])
    )


def _chart() -> rx.Component:
    return rx.recharts.line_chart(
        *[
            rx.recharts.line(
                data_key=key,
                name=name,
                stroke=rx.color(colour, 9),
                stroke_width=2,
                connect_nulls=True,
                # Dots in the line's own colour, so points match the legend even on a single day.
                dot={"fill": rx.color(colour, 9), "stroke": rx.color(colour, 9), "r": 3},
                is_animation_active=False,
            )
            for key, name, colour in TONE_LINES
        ],
        rx.recharts.x_axis(data_key="date"),
        rx.recharts.y_axis(domain=[0, 100], unit="%", width=44),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        data=HomeState.chart,
        width="100%",
        height=260,
    )


@template(routes.HOME, "Home", access="user", on_load=[HomeState.load], loader_guards=True)
def home() -> rx.Component:
    return rx.vstack(
        rx.heading("你好, " + SessionState.display_name + "!", size="8", as_="h1"),
        # Support centre (issue 13): the occasional NPS question.
        nps_prompt(
            due=NpsState.due, thanks=NpsState.thanks, on_answer=NpsState.answer, on_dismiss=NpsState.dismiss
        ),
        rx.cond(
            ~HomeState.onboarding_finished,
            notice(
                rx.hstack(
                    rx.text("Finish setting up: a one-minute microphone check tunes scoring to your voice."),
                    link_button("Set up my voice", routes.ONBOARDING, size="2"),
                    align="center",
                    spacing="3",
                    flex_wrap="wrap",
                ),
                icon="mic",
                width="100%",
            ),
        ),
        rx.card(
            rx.hstack(
                rx.vstack(
                    rx.text("Continue where you left off", size="2", color=rx.color("gray", 11)),
                    rx.heading(HomeState.continue_title, size="5", as_="h2"),
                    rx.cond(
                        HomeState.continue_hanzi != "",
                        rx.hstack(
                            rx.text("Next phrase:", size="2", color=rx.color("gray", 11)),
                            rx.text(HomeState.continue_hanzi, size="5", lang="zh-Hans"),
                            rx.text(HomeState.continue_detail, size="2", color=rx.color("gray", 11)),
                            align="baseline",
                            spacing="2",
                            flex_wrap="wrap",
                        ),
                    ),
                    spacing="1",
                ),
                rx.spacer(),
                rx.button(
                    rx.link(
                        "Continue",
                        href=HomeState.continue_href,
                        underline="none",
                        style={"color": "var(--accent-contrast)"},
                    ),
                    as_child=True,
                    size="3",
                ),
                align="center",
                width="100%",
                flex_wrap="wrap",
                spacing="3",
            ),
            size="3",
            width="100%",
        ),
        rx.grid(
            _stat("reviews due", HomeState.reviews_due, "calendar-check"),
            _stat("day streak", HomeState.streak_days, "flame"),
            _stat("XP today", HomeState.xp_today, "star"),
            _stat("XP in total", HomeState.xp_total, "trophy"),
            columns=rx.breakpoints(initial="2", md="4"),
            spacing="3",
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text("Today's goal", weight="bold"),
                    rx.spacer(),
                    rx.text(HomeState.minutes_today, " of ", HomeState.goal_minutes, " minutes"),
                    width="100%",
                ),
                rx.progress(value=HomeState.goal_percent, aria_label="Daily goal progress"),
                rx.cond(
                    HomeState.also_worth_another_go > 0,
                    rx.text(
                        "Also worth another go: ",
                        HomeState.also_worth_another_go,
                        " recently missed, not due yet.",
                        size="2",
                        color=rx.color("gray", 11),
                        data_testid="also-worth",
                    ),
                ),
                rx.cond(
                    (HomeState.reviews_due > 0) | (HomeState.also_worth_another_go > 0),
                    link_button("Start reviews", routes.REVIEW, variant="soft"),
                ),
                spacing="2",
                width="100%",
            ),
            size="2",
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.heading("Accuracy per tone", size="4", as_="h2"),
                rx.cond(
                    HomeState.chart.length() > 0,
                    rx.box(
                        _chart(), width="100%", aria_label="Chart of accuracy per tone over the last 30 days"
                    ),
                    rx.text(
                        "Practise on a few different days and a chart of your tone accuracy appears here; "
                        "until then the table below has your figures."
                    ),
                ),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Tone"),
                            rx.table.column_header_cell("Accuracy"),
                            rx.table.column_header_cell("Syllables judged"),
                        )
                    ),
                    rx.table.body(rx.foreach(HomeState.tone_rows, _tone_row)),
                    width="100%",
                ),
                rx.cond(
                    HomeState.pair_rows.length() > 0,
                    rx.vstack(
                        rx.heading("Tone pairs to work on", size="3", as_="h3"),
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Pair"),
                                    rx.table.column_header_cell("Accuracy"),
                                    rx.table.column_header_cell("Times said"),
                                )
                            ),
                            rx.table.body(rx.foreach(HomeState.pair_rows, _pair_row)),
                            width="100%",
                        ),
                        width="100%",
                    ),
                ),
                rx.cond(
                    HomeState.weakest_tone != "",
                    rx.text("Focus next on ", rx.text.strong(HomeState.weakest_tone), "."),
                ),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
