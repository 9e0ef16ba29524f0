// The sample host: any ASP.NET Core app composes the plugin packages it references with two calls.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddServerPlugins(builder.Configuration);
builder.WebHost.UseStaticWebAssets(); // plugin packages' wwwroot, served under /plugins/{id}/ (published apps copy them to wwwroot)

var app = builder.Build();
app.UseWebSockets();    // the ticker plugin's /echo endpoint is a WebSocket endpoint
app.MapServerPlugins(); // GET /api/plugins/hello-world/hello, /api/plugins/llm-proxy/status, /api/plugins/ticker/ticks, ...
app.MapServerPluginCatalog(); // GET /api/plugins: what is composed, its state, and each plugin's entry script
app.MapHealthChecks("/health"); // Unhealthy when a plugin failed
app.Run();
