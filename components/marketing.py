"""Reflex wrappers for the marketing components (issue 14), rendered in the consent banner's box on
every page: `Attribution` reports the first visit's UTM parameters and referrer (no consent needed:
no identifier, see docs/marketing.md), `MarketingTags` inserts advertising scripts — rendered only
when the server confirmed marketing consent."""

from __future__ import annotations

import reflex as rx

from components.props import VarOr


class Attribution(rx.Component):
    library = "$/public/components/Attribution.jsx"
    tag = "Attribution"

    url: rx.Var[str]


class MarketingTags(rx.Component):
    library = "$/public/components/MarketingTags.jsx"
    tag = "MarketingTags"

    scripts: rx.Var[list[str]]


def attribution(*, url: VarOr[str]) -> rx.Component:
    return Attribution.create(url=url)


def marketing_tags(*, allowed: VarOr[bool], scripts: VarOr[list[str]]) -> rx.Component:
    return rx.cond(allowed, MarketingTags.create(scripts=scripts))
