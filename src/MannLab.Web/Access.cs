using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace MannLab.Web;

/// <summary>
/// Who may see the site. Requests from this machine may; any other needs the token, given as
/// <c>Authorization: Bearer TOKEN</c>, as <c>?token=TOKEN</c> once (kept in a cookie), or in that
/// cookie. Without a token configured, only local requests are served, whatever the binding.
/// Actions (a run's retry, the Hangfire dashboard's commands) must also come from the site's own
/// pages. The same rules guard MannLab's pages and the Hangfire dashboard.
/// </summary>
public sealed class Access(string? token)
{
    private const string Cookie = "mannlab_token";

    public static bool IsLocal(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote);

    public bool Allows(HttpContext context)
    {
        if (IsLocal(context)) return true;
        if (token is null) return false;
        var given = context.Request.Headers.Authorization.FirstOrDefault() is { } header && header.StartsWith("Bearer ")
            ? header["Bearer ".Length..]
            : context.Request.Query["token"].FirstOrDefault() ?? context.Request.Cookies[Cookie];
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token));
    }

    /// <summary>
    /// Whether a request that changes something comes from one of the site's pages. A browser names
    /// the page's origin on every form it posts; a page of another site posting here (cross-site
    /// request forgery, which local requests would otherwise get away with, needing no token) names
    /// its own. Programs that send no Origin (curl, scripts) are no browser on a foreign page.
    /// </summary>
    public static bool FromThisSite(HttpContext context)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) return true;
        var origin = context.Request.Headers.Origin.FirstOrDefault();
        return origin is null || Uri.TryCreate(origin, UriKind.Absolute, out var uri) &&
               string.Equals(uri.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    public async Task Guard(HttpContext context, Func<Task> next)
    {
        if (!Allows(context))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsync("MannLab: requests from other machines need the token (Authorization: Bearer TOKEN, or ?token=TOKEN)");
            return;
        }
        if (!FromThisSite(context))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("MannLab: actions are taken from MannLab's own pages, not from another site's");
            return;
        }
        if (context.Request.Query["token"].FirstOrDefault() is { } fromQuery && !IsLocal(context))
            context.Response.Cookies.Append(Cookie, fromQuery, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
        await next();
    }

    /// <summary>Hangfire's own check, made explicit: local requests (its default), or the token.</summary>
    public sealed class DashboardFilter(Access access) : IDashboardAuthorizationFilter
    {
        private readonly LocalRequestsOnlyAuthorizationFilter _local = new();

        public bool Authorize(DashboardContext context) => _local.Authorize(context) || access.Allows(context.GetHttpContext());
    }
}
