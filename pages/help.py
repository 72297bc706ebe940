"""Help centre: categories and search (/help) and one article (/help/<slug>)."""

import reflex as rx

from components.help import snippet
from components.layout import link_button
from components.notices import notice
from components.props import Row
from pages.template import template
from sayzhong import routes
from state.session import SessionState
from state.support import HelpArticleState, HelpCentreState


def _result(item: Row) -> rx.Component:
    return rx.box(
        rx.link(rx.heading(item.title, size="4", as_="h3"), href=item.href),
        rx.text(item.category, size="1", color=rx.color("gray", 11)),
        snippet(item["parts"]),
        padding_y="0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        data_testid="help-result",
    )


def _category(category: Row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(category.label, size="4", as_="h3"),
            rx.foreach(
                category.articles,
                lambda a: rx.link(a.title, href=a.href, size="2"),
            ),
            spacing="2",
        ),
        size="2",
    )


def _contact() -> rx.Component:
    return notice(
        rx.hstack(
            rx.text("Didn't find what you need?"),
            rx.cond(
                SessionState.signed_in,
                rx.link("Contact support", href=routes.SUPPORT_NEW, weight="bold"),
                rx.link(
                    "Sign in to contact support", href=routes.sign_in_url(routes.SUPPORT_NEW), weight="bold"
                ),
            ),
            spacing="2",
            flex_wrap="wrap",
        ),
        icon="life-buoy",
        width="100%",
    )


@template(routes.HELP, "Help centre", on_load=[HelpCentreState.load])
def help_centre() -> rx.Component:
    return rx.vstack(
        rx.heading("Help centre", size="8", as_="h1"),
        rx.text(
            "Answers in English and 中文 — search with words, hanzi or pinyin.", color=rx.color("gray", 11)
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="q",
                    default_value=HelpCentreState.query,
                    placeholder="e.g. microphone blocked, 声调, qingsheng",
                    aria_label="Search help articles",
                    type="search",
                    width="100%",
                    max_length=200,
                ),
                rx.button("Search", type="submit"),
                width="100%",
            ),
            on_submit=HelpCentreState.search,
            reset_on_submit=False,
            width="100%",
            role="search",
        ),
        rx.cond(
            HelpCentreState.searched,
            rx.vstack(
                rx.heading("Results", size="5", as_="h2"),
                rx.cond(
                    HelpCentreState.suggestion != "",
                    rx.text(
                        "No article matched your words. Showing results for ",
                        rx.text.strong(HelpCentreState.suggestion),
                        ".",
                        role="status",
                    ),
                ),
                rx.cond(
                    HelpCentreState.partial,
                    rx.text("No article has all your words; these match some of them.", role="status"),
                ),
                rx.cond(
                    HelpCentreState.results.length() > 0,
                    rx.box(rx.foreach(HelpCentreState.results, _result), width="100%"),
                    rx.text(
                        "No articles found for ", rx.text.strong(HelpCentreState.query), ".", role="status"
                    ),
                ),
                _contact(),
                spacing="3",
                width="100%",
            ),
        ),
        rx.heading("Browse by topic", size="5", as_="h2"),
        rx.grid(
            rx.foreach(HelpCentreState.categories, _category),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        _contact(),
        spacing="4",
        width="100%",
    )


@template(routes.HELP_ARTICLE, "Help", on_load=[HelpArticleState.load], max_width="780px")
def help_article() -> rx.Component:
    return rx.vstack(
        rx.link("← Help centre", href=routes.HELP, size="2"),
        rx.text(HelpArticleState.category, size="2", color=rx.color("gray", 11)),
        rx.heading(HelpArticleState.title, size="8", as_="h1"),
        rx.cond(
            HelpArticleState.missing,
            rx.text("This article does not exist (or has moved). Try searching the help centre."),
            rx.vstack(
                # Rendered from Markdown and sanitised by nh3 on the server (help.render_markdown).
                rx.html(HelpArticleState.html, class_name="help-article"),
                rx.text("Last updated ", HelpArticleState.updated, size="1", color=rx.color("gray", 11)),
                rx.card(
                    rx.cond(
                        HelpArticleState.voted,
                        rx.text("Thanks for telling us.", role="status"),
                        rx.hstack(
                            rx.text("Was this helpful?", weight="medium"),
                            rx.button("Yes", variant="soft", on_click=HelpArticleState.vote(True)),  # type: ignore[operator]  # see components/props.py
                            rx.button(
                                "No",
                                variant="soft",
                                color_scheme="gray",
                                on_click=HelpArticleState.vote(False),  # type: ignore[operator]  # see components/props.py
                            ),
                            align="center",
                            spacing="3",
                        ),
                    ),
                    width="100%",
                ),
                _contact(),
                spacing="4",
                width="100%",
            ),
        ),
        link_button("Back to the help centre", routes.HELP, variant="ghost"),
        spacing="3",
        width="100%",
    )
