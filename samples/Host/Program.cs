// The sample host: any ASP.NET Core app composes the plugin packages it references with two calls.
using SampleHost;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddServerPlugins(builder.Configuration);
builder.WebHost.UseStaticWebAssets(); // plugin packages' wwwroot, served under /plugins/{id}/ (published apps copy them to wwwroot)

// Optional: with Auth:ApiKey set (e.g. Auth__ApiKey=secret), every plugin route requires the X-Api-Key header.
var apiKey = builder.Configuration["Auth:ApiKey"];
if (!string.IsNullOrEmpty(apiKey))
{
    builder.Services.AddAuthentication(ApiKeyAuthentication.SchemeName)
        .AddScheme<ApiKeyOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, options => options.ApiKey = apiKey);
    builder.Services.AddAuthorization();
}

var app = builder.Build();
app.UseWebSockets();    // the ticker plugin's /echo endpoint is a WebSocket endpoint

var plugins = app.MapServerPlugins(); // GET /api/plugins/hello-world/hello, /api/plugins/llm-proxy/status, /api/plugins/ticker/ticks, ...
if (!string.IsNullOrEmpty(apiKey))
{
    app.UseAuthentication();
    app.UseAuthorization();
    plugins.RequireAuthorization(); // one call protects every plugin route (Luker: plugin routes inherit the host's auth)
}

app.MapServerPluginCatalog(); // GET /api/plugins: what is composed, its state, and each plugin's entry script
app.MapHealthChecks("/health"); // Unhealthy when a plugin failed
app.Run();
