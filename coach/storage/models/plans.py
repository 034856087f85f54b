"""A session's action plans and what the seeker does with them: each version of a
plan with its goals, steps and resources, the journal written beside it, and the
mood check-ins at the start and the end of a session (`coach.plans` owns the logic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import Select

from coach.storage.models.base import MODEL_NAME_CHARS, Base, utcnow

PLAN_TEXT_CHARS = 500
CHECKIN_MOMENTS = ("start", "end")
JOURNAL_KINDS = ("learned", "went_well")


class Plan(Base):
    """One version of a session's action plan; generating again adds the next version.

    The goals, steps and resources are rows (they are edited and ticked off one by
    one); what is only ever shown whole (insights, routine, support) is JSON. Rows go
    with their session by the database's cascade, so that every way of deleting a
    session or a user (the ORM, a bulk delete, the guest purge) takes its plans too.
    """

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("coaching_session_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_session_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_sessions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    headline: Mapped[str] = mapped_column(Text)
    horizon_weeks: Mapped[int] = mapped_column(Integer)
    insights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    routine: Mapped[list[str]] = mapped_column(JSON, default=list)
    support: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_on: Mapped[date] = mapped_column()
    # The model that wrote it; "guided" for a plan built from the templates.
    model: Mapped[str] = mapped_column(String(MODEL_NAME_CHARS))

    goals: Mapped[list[PlanGoal]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PlanGoal.position",
    )
    journal: Mapped[list[JournalEntry]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="JournalEntry.id",
    )

    @staticmethod
    def of_session(coaching_session_id: int) -> Select[Plan]:
        """The session's plans, newest version first."""
        return (
            select(Plan)
            .where(Plan.coaching_session_id == coaching_session_id)
            .order_by(Plan.version.desc())
        )


class PlanGoal(Base):
    __tablename__ = "plan_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(PLAN_TEXT_CHARS))
    why: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30))

    plan: Mapped[Plan] = relationship(back_populates="goals")
    steps: Mapped[list[PlanStep]] = relationship(
        back_populates="goal",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PlanStep.position",
    )
    resources: Mapped[list[PlanResource]] = relationship(
        back_populates="goal",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PlanResource.id",
    )


class PlanStep(Base):
    __tablename__ = "plan_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("plan_goals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(PLAN_TEXT_CHARS))
    due: Mapped[date | None] = mapped_column()
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column()

    goal: Mapped[PlanGoal] = relationship(back_populates="steps")


class PlanResource(Base):
    __tablename__ = "plan_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("plan_goals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(PLAN_TEXT_CHARS))
    url: Mapped[str | None] = mapped_column(String(2000))

    goal: Mapped[PlanGoal] = relationship(back_populates="resources")


class JournalEntry(Base):
    """What the seeker learned or what went well, written beside a plan."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="journal")


class MoodCheckin(Base):
    """How the seeker felt (1 to 5) at the start or the end of a session."""

    __tablename__ = "mood_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_session_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_sessions.id", ondelete="CASCADE"), index=True
    )
    moment: Mapped[str] = mapped_column(String(10))
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @staticmethod
    def in_session(coaching_session_id: int) -> Select[MoodCheckin]:
        return (
            select(MoodCheckin)
            .where(MoodCheckin.coaching_session_id == coaching_session_id)
            .order_by(MoodCheckin.id)
        )
