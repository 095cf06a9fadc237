"""The project's stand-in for the Google Sheets API v4, served over real HTTP on 127.0.0.1.

A product part, not test code: the zero-config demo serves its sheet through it, and tests and
the bench point the real gspread/google-auth path at it (`Settings.sheets_api_url`), so
retries, timeouts, auth and response decoding are exercised for real. It answers the read
endpoints the sync uses, in Google's JSON shapes:

- `GET /v4/spreadsheets/{key}` (`fields`, `ranges`, `includeGridData`): metadata, grid data
- `GET /v4/spreadsheets/{key}/values:batchGet?ranges=...`: value ranges
- `POST /token`: an OAuth2 token endpoint for service-account JWT assertions

`fields` masks are honoured as Google honours them (cells and rows left empty are trimmed), so
answer sizes and request counts measured against it are honest. Deliberate simplifications: no
formulas other than =HYPERLINK, no dates (a date is its serial number), formats only as
background colors, FORMATTED_VALUE is a plain rendering, the read quota is one window shared by
all callers, and nothing can be written. Faults (`FakeSheetsServer.inject`) let a test script
429s, 5xx, redirects, slow, trickling, oversized, malformed, truncated and reset responses, and
200 answers that say something other than what was asked.

Modules: `ranges` (A1 notation), `masks` (field masks), `workbook` (the data, cell rendering),
`responses` (the API's answers), `oauth` (the token endpoint), `server` (HTTP, auth, quota,
faults), `errors` (Google's error shape).
"""

from .errors import FakeApiError
from .oauth import make_service_account, other_private_key
from .server import FakeSheetsServer
from .workbook import FakeWorksheet, Spreadsheet

__all__ = [
    "FakeApiError",
    "FakeSheetsServer",
    "FakeWorksheet",
    "Spreadsheet",
    "make_service_account",
    "other_private_key",
]
