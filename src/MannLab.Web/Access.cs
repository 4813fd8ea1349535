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
/// The same rule guards MannLab's pages and the Hangfire dashboard.
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

    public async Task Guard(HttpContext context, Func<Task> next)
    {
        if (!Allows(context))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsync("MannLab: requests from other machines need the token (Authorization: Bearer TOKEN, or ?token=TOKEN)");
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
