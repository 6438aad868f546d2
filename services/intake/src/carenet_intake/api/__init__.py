"""Intake's HTTP API: what a clinician of a certified hospital does."""

from fastapi import APIRouter

from carenet_intake.api import erasure, patients, referrals

router = APIRouter()
router.include_router(patients.router)
router.include_router(referrals.router)
router.include_router(erasure.router)

__all__ = ["router"]
