// The sample host: any ASP.NET Core app composes the plugin packages it references with two calls.
using Compose;
using Compose.PostgreSql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SampleHost;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddServerPlugins(builder.Configuration);

// Plugin store, cluster events and run-once leases: files under each plugin's data directory by default; shared by
// every replica with Compose:Store:Provider=PostgreSql and Compose:Store:ConnectionString (see docs/scale-out.md).
builder.Services.AddComposeStore(builder.Configuration);

// Optional: with OTEL_EXPORTER_OTLP_ENDPOINT set (the Aspire dashboard, any OTLP collector), metrics, traces and logs
// go out over OTLP, each naming the plugin (compose.plugin.id, the PluginId log scope); nothing is exported otherwise.
if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
{
    builder.Services.AddOpenTelemetry()
        .ConfigureResource(resource => resource.AddService("compose-sample-host"))
        .WithMetrics(metrics => metrics.AddMeter(ComposeTelemetry.MeterName).AddAspNetCoreInstrumentation().AddRuntimeInstrumentation())
        .WithTracing(tracing => tracing.AddSource(ComposeTelemetry.ActivitySourceName).AddAspNetCoreInstrumentation())
        .WithLogging(configureBuilder: null, configureOptions: logging => logging.IncludeScopes = true)
        .UseOtlpExporter();
}
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

// GET /: a small page (wwwroot/index.html) that pairs the hello-world plugin's frontend with its API, from this origin.
// It holds no secret and calls only the routes above, protected as they are: with Auth:ApiKey set they answer a browser
// 401 (it cannot send the X-Api-Key header), and the page says so.
app.MapGet("/", (IWebHostEnvironment environment) => environment.WebRootFileProvider.GetFileInfo("index.html") is { Exists: true } page
    ? Results.Stream(page.CreateReadStream(), "text/html; charset=utf-8")
    : Results.NotFound()).ExcludeFromDescription();
app.Run();
