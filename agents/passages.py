"""Numbered passages: how retrieved chunks are shown to the filter, distiller and answerer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Passage(BaseModel):
    n: int  # the number the model cites, [n]
    text: str = Field(max_length=4000)
    source: str = ""
