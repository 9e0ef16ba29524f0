using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compose.Integration.Tests;

/// <summary>
/// Host middleware applies to plugin routes like to any endpoint (Luker: plugin routes inherit the host's
/// authentication); one call protects every plugin route; a plugin's section can name its own policy; and
/// nothing Compose adds returns a plugin's settings.
/// </summary>
public sealed class SecurityTests
{
    private const string Secret = "sk-this-must-never-leave-the-server";

    [Fact]
    public async Task FallbackPolicyProtectsPluginRoutes()
    {
        await using var host = await StartWithAuthAsync(["probe"], fallback: true);

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/api/plugins/probe/ping")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(host, "/api/plugins/probe/ping", "alice")).StatusCode);
    }

    [Fact]
    public async Task OneCallRequiresAuthorizationOnEveryPluginRouteOnly()
    {
        await using var host = await StartWithAuthAsync(["probe", "hello-world"], fallback: false, conventions: group => group.RequireAuthorization());

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/api/plugins/probe/ping")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/api/plugins/hello-world/hello")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(host, "/api/plugins/hello-world/hello", "alice")).StatusCode);
        Assert.Equal("open", await host.Client.GetStringAsync("/open"));
    }

    [Theory]
    [InlineData("/api/plugins")]
    [InlineData("/plugins/hello-world/index.js")]
    public async Task ConventionsOfMapServerPlugins_AlsoProtectTheCatalogAndTheWebAssets(string path)
    {
        await using var host = await StartWithAuthAsync(
            ["probe", "hello-world"], fallback: false, conventions: group => group.RequireAuthorization(), mapMore: app => app.MapServerPluginCatalog());

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync(path)).StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await Send(host, path, "alice")).StatusCode);
    }

    [Fact]
    public async Task AllowAnonymousOnTheCatalog_OpensItExplicitly()
    {
        await using var host = await StartWithAuthAsync(
            ["probe"], fallback: false, conventions: group => group.RequireAuthorization(), mapMore: app => app.MapServerPluginCatalog().AllowAnonymous());

        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/plugins")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/api/plugins/probe/ping")).StatusCode);
    }

    [Fact]
    public async Task ShareConventionsOff_MapsTheCatalogAndAssetsOnTheirOwn()
    {
        await using var host = await StartWithAuthAsync(
            ["probe", "hello-world"],
            fallback: false,
            conventions: group => group.RequireAuthorization(),
            settings: new Dictionary<string, string?> { ["Compose:ShareConventions"] = "false" },
            mapMore: app => app.MapServerPluginCatalog());

        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/plugins")).StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/plugins/hello-world/index.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/api/plugins/probe/ping")).StatusCode);
    }

    [Fact]
    public async Task CatalogOnAnotherRouteBuilder_IsRefusedWithTheFix()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartWithAuthAsync(
            ["probe"], fallback: false, mapMore: app => app.MapGroup("/admin").MapServerPluginCatalog()));

        Assert.Contains("Compose:ShareConventions=false", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PluginSectionNamesAPolicyForThatPluginAlone()
    {
        await using var host = await StartWithAuthAsync(
            ["probe", "hello-world"],
            fallback: false,
            settings: new Dictionary<string, string?> { ["Compose:Plugins:probe:AuthorizationPolicy"] = "Admins" });

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/api/plugins/probe/ping")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(host, "/api/plugins/probe/ping", "bob")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(host, "/api/plugins/probe/ping", "alice", "admin")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/plugins/hello-world/hello")).StatusCode);
    }

    [Fact]
    public async Task RateLimitingAppliesThroughTheConventionBuilder()
    {
        await using var host = await PluginHost.StartAsync(
            ["probe"],
            conventions: group => group.RequireRateLimiting("tight"),
            configureBuilder: builder => builder.Services.AddRateLimiter(options =>
            {
                options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                options.AddFixedWindowLimiter("tight", limiter =>
                {
                    limiter.PermitLimit = 2;
                    limiter.Window = TimeSpan.FromMinutes(1);
                    limiter.QueueLimit = 0;
                });
            }),
            configureApp: app => app.UseRateLimiter());

        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/plugins/probe/ping")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/plugins/probe/ping")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await host.Client.GetAsync("/api/plugins/probe/ping")).StatusCode);
    }

    [Fact]
    public async Task HostCorsPolicyAppliesToPluginRoutes()
    {
        await using var host = await PluginHost.StartAsync(
            ["probe"],
            conventions: group => group.RequireCors("site"),
            configureBuilder: builder => builder.Services.AddCors(options =>
                options.AddPolicy("site", policy => policy.WithOrigins("https://app.example").WithMethods("GET"))),
            configureApp: app => app.UseCors());

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/plugins/probe/ping");
        preflight.Headers.Add("Origin", "https://app.example");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        using var allowed = await host.Client.SendAsync(preflight);
        Assert.Equal("https://app.example", Assert.Single(allowed.Headers.GetValues("Access-Control-Allow-Origin")));

        using var foreign = new HttpRequestMessage(HttpMethod.Get, "/api/plugins/probe/ping");
        foreign.Headers.Add("Origin", "https://evil.example");
        using var response = await host.Client.SendAsync(foreign);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task CatalogEndpointListsPluginsButNeverTheirSettings()
    {
        await using var host = await PluginHost.StartAsync(
            ["probe", "throwing-sync", "configured"],
            new Dictionary<string, string?>
            {
                ["Compose:Plugins:probe:ApiKey"] = Secret,
                ["Compose:Plugins:configured:Greeting"] = Secret,
            },
            configureApp: app => app.MapServerPluginCatalog());

        using var response = await host.Client.GetAsync("/api/plugins");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(body);
        var plugins = json.RootElement.GetProperty("plugins").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
        Assert.Equal(host.Catalog.Count, plugins.Count);
        Assert.Equal("Running", plugins["probe"].GetProperty("state").GetString());
        Assert.Equal("Probe", plugins["probe"].GetProperty("name").GetString());
        Assert.Equal("Answers pings", plugins["probe"].GetProperty("description").GetString());
        Assert.Equal(2, plugins["probe"].GetProperty("routeCount").GetInt32());
        Assert.Equal("Compose.Integration.Tests", plugins["probe"].GetProperty("assembly").GetString());
        Assert.False(string.IsNullOrEmpty(plugins["probe"].GetProperty("version").GetString()));
        Assert.False(plugins["probe"].TryGetProperty("error", out _));
        Assert.Equal("Failed", plugins["throwing-sync"].GetProperty("state").GetString());
        Assert.Equal("failed; see the host log", plugins["throwing-sync"].GetProperty("error").GetString()); // the reason only in Development
        Assert.Equal("Disabled", plugins["hello-world"].GetProperty("state").GetString());
    }

    [Fact]
    public async Task PluginEndpointsAppearInTheOpenApiDocumentTaggedByPlugin()
    {
        await using var host = await PluginHost.StartAsync(
            ["probe", "hello-world"],
            configureBuilder: builder => builder.Services.AddOpenApi(),
            configureApp: app => app.MapOpenApi());

        using var document = JsonDocument.Parse(await host.Client.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        Assert.Equal("Probe", Tags(paths, "/api/plugins/probe/ping").Single());
        Assert.Equal("Probe", Tags(paths, "/api/plugins/probe/items/{id}").Single());
        Assert.Equal("Hello World", Tags(paths, "/api/plugins/hello-world/hello").Single());
        Assert.False(paths.TryGetProperty("/api/plugins/late/early", out _));

        static IEnumerable<string> Tags(JsonElement paths, string path)
            => paths.GetProperty(path).GetProperty("get").GetProperty("tags").EnumerateArray().Select(t => t.GetString()!);
    }

    private static Task<PluginHost> StartWithAuthAsync(
        string[] plugins,
        bool fallback,
        Action<RouteGroupBuilder>? conventions = null,
        IDictionary<string, string?>? settings = null,
        Action<WebApplication>? mapMore = null)
        => PluginHost.StartAsync(
            plugins,
            settings,
            conventions: conventions,
            configureBuilder: builder =>
            {
                builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
                builder.Services.AddAuthorization(options =>
                {
                    options.AddPolicy("Admins", policy => policy.RequireRole("admin"));
                    if (fallback)
                    {
                        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
                    }
                });
            },
            configureApp: app =>
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapGet("/open", () => "open").AllowAnonymous();
                mapMore?.Invoke(app);
            });

    private static Task<HttpResponseMessage> Send(PluginHost host, string path, string user, string? role = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue(TestAuthHandler.SchemeName, role is null ? user : $"{user};{role}");
        return host.Client.SendAsync(request);
    }

    /// <summary>Authenticates "Authorization: Test user[;role]"; anything else is anonymous.</summary>
    private sealed class TestAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Test";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            if (!header.StartsWith(SchemeName + " ", StringComparison.Ordinal))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var parts = header[(SchemeName.Length + 1)..].Split(';');
            var claims = new List<Claim> { new(ClaimTypes.Name, parts[0]) };
            claims.AddRange(parts.Skip(1).Select(role => new Claim(ClaimTypes.Role, role)));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
        }
    }
}
