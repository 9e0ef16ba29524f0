using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace SampleHost;

/// <summary>Settings of the sample's API-key scheme.</summary>
public sealed class ApiKeyOptions : AuthenticationSchemeOptions
{
    /// <summary>Gets or sets the key a request must send in the <c>X-Api-Key</c> header.</summary>
    public string ApiKey { get; set; } = string.Empty;
}

/// <summary>
/// The sample host's authentication: a request is authenticated when its <c>X-Api-Key</c> header matches the
/// configured key (compared in constant time). It shows that plugin routes inherit the host's authentication,
/// as Luker's do; a real host would use its own scheme (cookies, JWT bearer, ...).
/// </summary>
/// <param name="options">The scheme's options.</param>
/// <param name="logger">The logger factory.</param>
/// <param name="encoder">The URL encoder.</param>
public sealed class ApiKeyAuthentication(IOptionsMonitor<ApiKeyOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<ApiKeyOptions>(options, logger, encoder)
{
    /// <summary>The scheme name.</summary>
    public const string SchemeName = "ApiKey";

    /// <inheritdoc/>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue("X-Api-Key", out var sent) || string.IsNullOrEmpty(sent))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent.ToString()), Encoding.UTF8.GetBytes(Options.ApiKey)))
        {
            return Task.FromResult(AuthenticateResult.Fail("Invalid API key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "api-key")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
