"""Every answer under /api/ is JSON, including the ones Django gives before the API sees them."""

from django.http import JsonResponse

MESSAGES = {
    400: ("bad_request", "the request is malformed"),
    403: ("forbidden", "you may not see or change this"),
    404: ("not_found", "no such endpoint"),
    405: ("method_not_allowed", "this endpoint does not take that method"),
    413: ("too_large", "the request body is too large"),
    500: ("server_error", "something went wrong on our side; nothing was saved"),
}


def api_json_errors(get_response):
    def middleware(request):
        response = get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            code, message = MESSAGES.get(status, ("error", "the request failed"))
            body = {"error": {"status": status, "code": code, "message": message, "field": None}}
            replacement = JsonResponse(body, status=status)
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response

    return middleware
