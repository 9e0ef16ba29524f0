// A Compose host: every plugin it references (packages or projects) is composed at build time.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddServerPlugins(builder.Configuration);

var app = builder.Build();
app.MapServerPlugins();         // each plugin's routes under /api/plugins/{id}/
app.MapServerPluginCatalog();   // GET /api/plugins: what is composed and its state
app.MapHealthChecks("/health"); // Unhealthy when a plugin failed
app.Run();
