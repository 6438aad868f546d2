"""Intake's HTTP API: what a clinician of a certified hospital does."""

from fastapi import APIRouter

from carenet_intake.api import patients, referrals

router = APIRouter()
router.include_router(patients.router)
router.include_router(referrals.router)

__all__ = ["router"]
