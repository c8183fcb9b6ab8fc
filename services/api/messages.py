"""Every sentence the gateway says to a person about authentication, uploads and streams."""

NOT_AUTHENTICATED = "Not authenticated. Please log in."
SESSION_INVALID = "Your session has expired or is invalid. Please log in again."
ACCOUNT_GONE = "This account no longer exists."
AUTH_UNAVAILABLE = "The sign-in service is unavailable right now. Please try again shortly."
TICKET_INVALID = "This stream link has expired or was already used. Please request a new ticket."
TICKET_OTHER_ANALYSIS = "This stream ticket was issued for another analysis."
ANALYSIS_NOT_FOUND = "Analysis not found."
CROP_NOT_FOUND = "Crop not found."
INVALID_CURSOR = "Invalid pagination cursor."
RESULT_OF_FAILED = "The analysis failed: {error}"
RESULT_NOT_FINISHED = "The analysis is not finished yet (status: {status})."

NOT_A_VIDEO = "This file is not a video format we accept. Please upload MP4, WebM, MOV, AVI or MKV."
EMPTY_FILE = "The uploaded file is empty."
UNSUPPORTED_VIDEO = "{reason}"
UNREADABLE = "We could not read this video. The file may be damaged or use an unsupported codec."
TOO_LARGE = "The video is larger than the {limit_mb} MB limit."
TOO_LONG = "The video is longer than the {limit_s:.0f} s limit. Please trim it and upload again."
FRAMES_TOO_LARGE = (
    "The video's frames are too large ({width}×{height}); at most {limit_mp:.1f} megapixels per frame are "
    "accepted. Please export it at a lower resolution."
)
FRAMES_TOO_SMALL = (
    "The video's frames are too small ({width}×{height}); at least {min_side} pixels per side are needed "
    "to find a face."
)
UPLOAD_TOO_SLOW = "The upload was too slow and was stopped. Please check your connection and try again."
QUEUE_DOWN = "The analysis queue is unavailable right now. Nothing was stored; please try again shortly."
STORE_FAILED = "Could not store the analysis; please retry."
WEBHOOK_NOT_PUBLIC = "webhook_url must be a public http(s) address."
