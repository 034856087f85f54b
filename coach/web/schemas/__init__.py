"""The shapes of the HTTP contract, once: what the JSON API takes and what it answers.

Requests are checked against these models (`coach.web.api.requests`), responses
are built and serialised through them (`coach.web.representations`), and the
OpenAPI document is generated from them (`coach.web.openapi`). A field added here
appears in all three.

`MISSING` marks a field that may be absent but is never null: a PATCH that leaves
it out changes nothing, and a session listed without its messages has no
`messages` key at all.

The shapes live in modules by what they describe; import them from here:
- `base`: the three kinds of shape and the field types they share;
- `bodies` and `queries`: the JSON bodies and the query strings the API takes;
- `sessions`: sessions, their messages, the safety help and the reflection record;
- `events`: a reply streamed as Server-Sent Events;
- `accounts`: the caller, their token, and the export of their data;
- `service`: errors, health and readiness, this document, referral counts.
"""

from coach.storage.models import MAX_ID
from coach.web.schemas.accounts import (
    Export,
    ExportedMessage,
    ExportedSession,
    ExportedUser,
    TokenGrant,
    User,
)
from coach.web.schemas.base import (
    ID_CONVERTER,
    IdConverter,
    OneOf,
    QueryShape,
    RequestShape,
    ResponseShape,
)
from coach.web.schemas.bodies import (
    Account,
    CheckinCreate,
    GoalUpdate,
    JournalCreate,
    Login,
    MessageCreate,
    NoteBody,
    NoteChangeBody,
    PlanCreate,
    ReflectionCorrection,
    SessionCreate,
    SessionUpdate,
    StepCreate,
    StepUpdate,
)
from coach.web.schemas.events import (
    REPLY_EVENTS,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    MessageEvent,
)
from coach.web.schemas.queries import (
    AuditQuery,
    CounselorSessionsQuery,
    PlanQuery,
    SessionListQuery,
    SessionShowQuery,
)
from coach.web.schemas.service import (
    Error,
    ErrorDetail,
    Health,
    Liveness,
    OpenApiDocument,
    ReadinessReport,
    ReferralDay,
    Referrals,
)
from coach.web.schemas.sessions import (
    PLAN_RESPONSES,
    Cancelling,
    CrisisResources,
    EmergencyNumber,
    HelpLine,
    Message,
    NoteList,
    ReflectedCause,
    Reflection,
    Safety,
    Session,
    SessionPage,
    Turn,
)

__all__ = [
    "ID_CONVERTER",
    "MAX_ID",
    "PLAN_RESPONSES",
    "REPLY_EVENTS",
    "Account",
    "AuditQuery",
    "Cancelling",
    "CheckinCreate",
    "CounselorSessionsQuery",
    "CrisisResources",
    "DeltaEvent",
    "DoneEvent",
    "EmergencyNumber",
    "Error",
    "ErrorDetail",
    "ErrorEvent",
    "Export",
    "ExportedMessage",
    "ExportedSession",
    "ExportedUser",
    "GoalUpdate",
    "Health",
    "HelpLine",
    "IdConverter",
    "JournalCreate",
    "Liveness",
    "Login",
    "Message",
    "MessageCreate",
    "MessageEvent",
    "NoteBody",
    "NoteChangeBody",
    "NoteList",
    "OneOf",
    "OpenApiDocument",
    "PlanCreate",
    "PlanQuery",
    "QueryShape",
    "ReadinessReport",
    "ReferralDay",
    "Referrals",
    "ReflectedCause",
    "Reflection",
    "ReflectionCorrection",
    "RequestShape",
    "ResponseShape",
    "Safety",
    "Session",
    "SessionCreate",
    "SessionListQuery",
    "SessionPage",
    "SessionShowQuery",
    "SessionUpdate",
    "StepCreate",
    "StepUpdate",
    "TokenGrant",
    "Turn",
    "User",
]
