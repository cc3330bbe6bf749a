<%@ Page Language="C#" %>
<!DOCTYPE html>
<html>
<head><title>XSP smoke test</title></head>
<body>
<p>Hello from XSP: <%= "ASP.NET rendered " + (6 * 7) %></p>
</body>
</html>
