
tomcat